import { contractStats, documentedOperations } from './contract';

/**
 * Mocha root hooks (loaded by .mocharc.json): at the end of a run, how many answers were checked
 * against the OpenAPI document, so a wiring mistake that checks nothing shows.
 */
export const mochaHooks = {
  afterAll(): void {
    if (contractStats.validated === 0 && contractStats.thirdParty === 0) return;
    const operations = [...contractStats.byOperation.keys()].filter((key) => key !== 'no operation (404)').length;
    console.log(
      `\n  OpenAPI contract: ${contractStats.validated} answers validated against the document (${operations} operations), ` +
        `${contractStats.thirdParty} answers of third-party operator pages not checked`,
    );
    const unexercised = documentedOperations().filter((key) => !contractStats.byOperation.has(key));
    if (unexercised.length > 0) console.log(`  Operations no answer came from in this run: ${unexercised.join(', ')}`);
  },
};
