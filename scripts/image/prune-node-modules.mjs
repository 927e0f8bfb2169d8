// Runs in the image's `deps` stage after `npm ci --omit=dev`: removes from node_modules what no
// process of the image ever loads, so the runtime carries only what runs.
//  1. Packages none of the given ones (the root manifest, the workspaces) reaches through
//     `dependencies`, `optionalDependencies` and required peers. npm keeps some that nothing
//     running needs: optional peers (TypeScript and its native compiler, ~30 MB, an optional peer
//     of valibot), and the dependencies of a package whose only use here is one self-contained
//     file (SELF_CONTAINED below).
//  2. Files: source maps, type declarations, TypeScript sources, markdown (licences are kept), and
//     the `.bin` links.
// Usage: node prune-node-modules.mjs <package dir>...   (from the directory holding node_modules)
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Packages used only through a bundle that needs nothing else: the API serves redoc's standalone bundle (apps/api/src/openapi/docs.routes.ts). */
const SELF_CONTAINED = new Set(['redoc']);
const UNUSED_FILE = /(\.map|\.d\.[cm]?ts|\.[cm]?ts|\.md|\.markdown|\.tsbuildinfo)$/i;
const LICENCE = /^(licen[cs]e|copying|notice)/i;

const root = resolve('.');
const workspaces = process.argv.slice(2).map((dir) => resolve(dir));
if (workspaces.length === 0) throw new Error('usage: prune-node-modules.mjs <package dir>...');

const readManifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Node's lookup: `<dir>/node_modules/<name>`, then each parent directory's, up to the root. */
function resolvePackage(from, name) {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

const reached = new Set();
function reach(dir) {
  if (reached.has(dir)) return;
  reached.add(dir);
  const manifest = readManifest(dir);
  if (SELF_CONTAINED.has(manifest.name) && !workspaces.includes(dir)) return;
  const optionalPeers = manifest.peerDependenciesMeta ?? {};
  const requiredPeers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optionalPeers[name]?.optional);
  const names = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {}), ...requiredPeers];
  for (const name of names) {
    const found = resolvePackage(dir, name);
    if (found) reach(found);
  }
}
for (const dir of workspaces) reach(dir);

/** Every installed package directory under `modules` (scoped ones, nested node_modules), workspace links left out. */
function* installedPackages(modules) {
  if (!existsSync(modules)) return;
  for (const entry of readdirSync(modules)) {
    const path = join(modules, entry);
    if (entry.startsWith('.') || lstatSync(path).isSymbolicLink()) continue;
    if (entry.startsWith('@')) {
      yield* installedPackages(path);
      continue;
    }
    if (!existsSync(join(path, 'package.json'))) continue;
    yield path;
    yield* installedPackages(join(path, 'node_modules'));
  }
}

let freed = 0;
function remove(path) {
  freed += sizeOf(path);
  rmSync(path, { recursive: true, force: true });
}
function sizeOf(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

const unreached = [...installedPackages(join(root, 'node_modules'))].filter((dir) => !reached.has(dir));
for (const dir of unreached) {
  if (!existsSync(dir)) continue;
  remove(dir);
  // A scope whose packages are all gone (e.g. @typescript) goes too.
  const scope = dirname(dir);
  if (scope.split('/').pop().startsWith('@') && readdirSync(scope).length === 0) rmSync(scope, { recursive: true });
}

let files = 0;
function pruneFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) continue;
    if (stat.isDirectory()) {
      if (entry === '.bin') remove(path);
      else pruneFiles(path);
    } else if (UNUSED_FILE.test(entry) && !LICENCE.test(entry)) {
      remove(path);
      files += 1;
    }
  }
}
pruneFiles(join(root, 'node_modules'));

const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const left = statSync(join(root, 'node_modules')).isDirectory() ? sizeOf(join(root, 'node_modules')) : 0;
console.log(`node_modules pruned: ${unreached.length} unused packages and ${files} files, ${megabytes(freed)} freed, ${megabytes(left)} left`);
