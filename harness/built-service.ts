import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ServiceEnv } from './service-env';
import { ServiceProcess } from './service-process';
import { waitUntil } from './wait';

/**
 * The API and the worker as real processes (`node apps/*\/dist/main.js`, what `npm run start:api`
 * / `start:worker` run), configured only through environment variables (service-env.ts).
 */

export const ROOT = resolve(__dirname, '..');
const PACKAGES = ['apps/api', 'apps/worker', 'libs/common', 'migrations'];
const ENTRY_POINTS = ['apps/api/dist/main.js', 'apps/worker/dist/main.js', 'libs/common/dist/config.js', 'migrations/dist/index.js'];
let snapshot: string | undefined;

/**
 * The compiled service, copied once per run to a private directory, so another engineer's
 * `npm run build` (which first deletes every dist) cannot pull the code from under a running
 * test or benchmark. The copy's node_modules links to the repository's dependencies, except the
 * workspace packages (@orgms/*), which point at the copied ones.
 */
export function builtService(): string {
  if (snapshot) return snapshot;
  const missing = ENTRY_POINTS.filter((entry) => !existsSync(join(ROOT, entry)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'orgms-build-'));
  try {
    for (const pkg of PACKAGES) {
      mkdirSync(join(dir, pkg), { recursive: true });
      cpSync(join(ROOT, pkg, 'package.json'), join(dir, pkg, 'package.json'));
      cpSync(join(ROOT, pkg, 'dist'), join(dir, pkg, 'dist'), { recursive: true });
    }
    const modules = join(dir, 'node_modules');
    mkdirSync(join(modules, '@orgms'), { recursive: true });
    for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
      if (entry !== '@orgms') symlinkSync(join(ROOT, 'node_modules', entry), join(modules, entry));
    }
    for (const [name, pkg] of [
      ['api', 'apps/api'],
      ['worker', 'apps/worker'],
      ['common', 'libs/common'],
      ['migrations', 'migrations'],
    ]) {
      symlinkSync(join(dir, pkg), join(modules, '@orgms', name));
    }
    const stillMissing = ENTRY_POINTS.filter((entry) => !existsSync(join(dir, entry)));
    if (stillMissing.length > 0) throw new Error(`the build changed while it was copied (${stillMissing.join(', ')}): run the suite again`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  snapshot = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Spawns `node apps/<kind>/dist/main.js` (of the snapshot) with exactly the given environment (plus PATH/HOME). */
export function spawnService(kind: 'api' | 'worker', fe: ServiceEnv, overrides: Record<string, string> = {}, name: string = kind): ServiceProcess {
  const child = spawn(process.execPath, [join(builtService(), 'apps', kind, 'dist', 'main.js')], {
    cwd: tmpdir(), // no .env from the repository leaks in
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fe.env, ...overrides },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ServiceProcess(name, child);
}

/** Starts the API and waits until it listens and its control database is ready. */
export async function startApi(fe: ServiceEnv, overrides: Record<string, string> = {}, name = 'api'): Promise<ServiceProcess> {
  const api = spawnService('api', fe, overrides, name);
  await waitUntil(async () => !api.alive || (await fetch(`${fe.baseUrl}/health`).catch(() => undefined))?.status === 200, 20000, 'the API to listen');
  if (!api.alive) throw new Error(`${name} exited at start`);
  await waitUntil(async () => (await fetch(`${fe.baseUrl}/auth/login`, { method: 'POST' }).catch(() => undefined))?.status !== 503, 20000, 'the API to serve');
  return api;
}

/** Starts a worker and waits until it consumes jobs and its template database is current. */
export async function startWorker(fe: ServiceEnv, overrides: Record<string, string> = {}, name = 'worker'): Promise<ServiceProcess> {
  const worker = spawnService('worker', fe, overrides, name);
  await worker.waitForLog((l) => l.message === 'worker started', 20000, 'worker started');
  if ({ ...fe.env, ...overrides }.ORG_TEMPLATE_ENABLED !== 'false') {
    await worker.waitForLog((l) => l.message === 'template database' || /template/.test(String(l.message)), 20000, 'template refresh');
  }
  return worker;
}
