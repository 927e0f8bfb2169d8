import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationReference, referenceRows, withCurrentReference } from '@orgms/common/config/configuration-reference';
import { environmentSchema } from '@orgms/common/config/environment';
import { expect } from 'chai';
import Joi from 'joi';

const ROOT = join(__dirname, '..', '..');

/** Each variable the service reads, with its default as the docs write it (undefined: none). */
function variablesOfTheCode(): Map<string, string | undefined> {
  const keys = environmentSchema.describe().keys as Record<string, { flags?: { default?: unknown } }>;
  return new Map(Object.entries(keys).map(([name, key]) => [name, key.flags?.default === undefined ? undefined : String(key.flags.default)]));
}

/** `# NAME=value` lines of .env.example: variable → the value shown. */
function envExample(): Map<string, string> {
  const lines = [...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)];
  return new Map(lines.map(([, name, value]) => [name, value]));
}

describe('Configuration docs (docs/operations/configuration.md, .env.example) are in step with the code', () => {
  const code = variablesOfTheCode();

  it('when the configuration page is read, then its table is exactly what environment.ts generates (npm run docs:config)', () => {
    const page = readFileSync(join(ROOT, 'docs', 'operations', 'configuration.md'), 'utf8');
    expect(withCurrentReference(page), 'run npm run docs:config').to.equal(page);
    expect(page).to.include(configurationReference());
  });

  it('when the reference is generated, then it lists every variable once, with its default or the words for an unset one', () => {
    const rows = referenceRows();
    expect(rows.map((row) => row.name)).to.deep.equal([...code.keys()]);
    for (const row of rows) {
      const fallback = code.get(row.name);
      if (fallback === undefined) expect(row.default, row.name).not.to.match(/^`[^`]*`$/);
      else expect(row.default, row.name).to.equal(`\`${fallback}\``);
    }
  });

  it('when a variable has no description, then the reference refuses to be generated', () => {
    expect(() => referenceRows(Joi.object({ UNDOCUMENTED: Joi.string() }))).to.throw(/UNDOCUMENTED has no description/);
  });

  it('when .env.example shows the variables, then it shows exactly those the code reads, each at its default', () => {
    const example = envExample();
    expect([...example.keys()].sort()).to.deep.equal([...code.keys()].sort());
    for (const [name, fallback] of code) expect(example.get(name), name).to.equal(fallback ?? '');
  });
});
