/**
 * `npm run docs:config`: rewrites the generated table of docs/operations/configuration.md from the
 * environment schema (every variable, its default, its meaning). `--check` only compares and exits
 * 1 when the document is behind the code; the unit spec of the configuration docs does the same in CI.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withCurrentReference } from '@orgms/common/config/configuration-reference';

export const CONFIGURATION_DOCUMENT = path.resolve(__dirname, '..', '..', '..', 'docs', 'operations', 'configuration.md');

function main(): void {
  const committed = readFileSync(CONFIGURATION_DOCUMENT, 'utf8');
  const current = withCurrentReference(committed);
  if (process.argv.includes('--check')) {
    if (current !== committed) {
      console.error('docs/operations/configuration.md is not what environment.ts says: run npm run docs:config');
      process.exit(1);
    }
    console.log('docs/operations/configuration.md matches environment.ts');
    return;
  }
  writeFileSync(CONFIGURATION_DOCUMENT, current);
  console.log(`wrote ${path.relative(process.cwd(), CONFIGURATION_DOCUMENT)}`);
}

main();
