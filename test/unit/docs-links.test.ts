import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..');

/** README.md, bench/RESULTS.md and every page under docs/. */
function documents(): string[] {
  const pages = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? pages(join(dir, entry.name)) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : [],
    );
  return [join(ROOT, 'README.md'), join(ROOT, 'bench', 'RESULTS.md'), ...pages(join(ROOT, 'docs'))];
}

/** The text outside fenced code blocks: links and headings inside code are not links or headings. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replaceAll(' ', '-');
}

function anchorsOf(file: string): Set<string> {
  return new Set([...prose(readFileSync(file, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)].map(([, heading]) => anchorOf(heading)));
}

describe('Documentation links (README.md, docs/)', () => {
  it('when a page links to a file or a heading of the repository, then it exists', () => {
    const broken: string[] = [];
    for (const file of documents()) {
      for (const [, target] of prose(readFileSync(file, 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [path, anchor] = target.split('#');
        const linked = path ? join(dirname(file), path) : file;
        if (!existsSync(linked)) broken.push(`${relative(ROOT, file)}: ${target} (no such file)`);
        else if (anchor && linked.endsWith('.md') && !anchorsOf(linked).has(anchor)) broken.push(`${relative(ROOT, file)}: ${target} (no such heading)`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('when a page names a path of the repository in code (`apps/…`, `libs/…`, `test/…`), then that path exists', () => {
    const missing: string[] = [];
    for (const file of documents()) {
      for (const [, path] of readFileSync(file, 'utf8').matchAll(/`((?:apps|libs|test|harness|migrations|scripts|packages|docs)\/[\w./-]+)`/g)) {
        if (!existsSync(join(ROOT, path))) missing.push(`${relative(ROOT, file)}: ${path}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('when the README is read, then it is the entry page: at most 250 lines', () => {
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').length).to.be.at.most(250);
  });
});
