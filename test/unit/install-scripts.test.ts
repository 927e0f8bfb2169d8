import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; hasInstallScript?: boolean; link?: boolean }>;
};

/** `node_modules/a/node_modules/@b/c` → `@b/c`. */
function nameOf(lockPath: string): string {
  return lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** The allowScripts verdict npm applies to one installed package: a pinned `name@version` entry, or the name alone. */
function verdict(name: string, version: string | undefined): boolean | undefined {
  const allow = manifest.allowScripts ?? {};
  return allow[`${name}@${version}`] ?? allow[name];
}

describe('Supply chain: dependency install scripts', () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([lockPath, entry]) => lockPath.includes('node_modules/') && entry.hasInstallScript)
    .map(([lockPath, entry]) => ({ name: nameOf(lockPath), version: entry.version }));

  it('when npm ci installs the lockfile, then every package with an install script has a reviewed verdict (so nothing unreviewed runs and the install is quiet)', () => {
    expect(withScripts).to.not.be.empty;
    const unreviewed = withScripts.filter((p) => verdict(p.name, p.version) === undefined).map((p) => `${p.name}@${p.version}`);
    expect(unreviewed, 'add an allowScripts entry for each (npm install-scripts approve|deny)').to.deep.equal([]);
  });

  // bcrypt's script (node-gyp-build) only picks its prebuilt addon, or builds it on a platform
  // without one; npm cannot pin it to a version because the lockfile has no "resolved" URLs.
  it('when a package only phones home, prints a banner or has an optional native speed-up, then its script is denied; bcrypt (its native addon) is the one approved', () => {
    expect(verdict('@scarf/scarf', undefined)).to.equal(false);
    expect(verdict('core-js', undefined)).to.equal(false);
    const approved = withScripts.filter((p) => verdict(p.name, p.version) === true).map((p) => p.name);
    expect(approved).to.deep.equal(['bcrypt']);
  });
});
