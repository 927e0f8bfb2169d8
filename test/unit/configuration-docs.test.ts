import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { environmentSchema } from '@orgms/common/config/environment';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..');

/** Each variable the service reads, with its default as the docs write it (undefined: none). */
function variablesOfTheCode(): Map<string, string | undefined> {
  const keys = environmentSchema.describe().keys as Record<string, { flags?: { default?: unknown } }>;
  return new Map(Object.entries(keys).map(([name, key]) => [name, key.flags?.default === undefined ? undefined : String(key.flags.default)]));
}

/** The rows of the README's "Configuration" table: variable → its default cell. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration'), readme.indexOf('\n## API'));
  const rows = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` +\| ([^|]+?) +\|/gm)];
  return new Map(rows.map(([, name, cell]) => [name, cell]));
}

/** `# NAME=value` lines of .env.example: variable → the value shown. */
function envExample(): Map<string, string> {
  const lines = [...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^# ([A-Z][A-Z0-9_]*)=(.*)$/gm)];
  return new Map(lines.map(([, name, value]) => [name, value]));
}

describe('Configuration docs (README table, .env.example) are in step with the code', () => {
  const code = variablesOfTheCode();

  it('when the README lists the variables, then it lists exactly those the code reads, each with its default', () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).to.deep.equal([...code.keys()].sort());
    for (const [name, fallback] of code) {
      if (fallback === undefined) expect(table.get(name), name).not.to.match(/^`[^`]*`$/);
      else expect(table.get(name), name).to.equal(`\`${fallback}\``);
    }
  });

  it('when .env.example shows the variables, then it shows exactly those the code reads, each at its default', () => {
    const example = envExample();
    expect([...example.keys()].sort()).to.deep.equal([...code.keys()].sort());
    for (const [name, fallback] of code) expect(example.get(name), name).to.equal(fallback ?? '');
  });
});
