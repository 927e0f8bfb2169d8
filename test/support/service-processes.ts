import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { assertContract } from './contract';

/**
 * Support for the fault suite (test/faults): the API and the worker run as real processes
 * (`node apps/*\/dist/main.js`, what `npm run start:api` / `start:worker` run), configured only
 * through environment variables, each fault test with its own control database, org-database
 * prefix, queue prefix and port, and everything it created is dropped afterwards.
 */

export const ROOT = resolve(__dirname, '..', '..');
export const PG_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const FAULT_ADMIN_EMAIL = 'root@faults.test';
export const FAULT_ADMIN_PASSWORD = 'fault-admin-password';

export interface LogLine {
  level?: string;
  message?: string;
  [key: string]: unknown;
}

/** Every process started by this module, so a failing test can print their logs and cleanup can kill them. */
const started: ServiceProcess[] = [];
// Even if mocha itself is interrupted, no API, worker or throwaway Redis outlives it.
process.on('exit', () => {
  for (const service of started) if (service.alive) service.child.kill('SIGKILL');
});

export class ServiceProcess {
  readonly logs: string[] = [];
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private listeners: Array<() => void> = [];
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null; at: number };

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        this.logs.push(`[${name}] exited code=${code} signal=${signal}`);
        resolveExit(this.exitInfo);
        this.notify();
      });
    });
    const onData = (stream: string) => {
      let buffer = '';
      return (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const text = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          this.logs.push(`[${name}${stream}] ${text}`);
          try {
            this.lines.push(JSON.parse(text) as LogLine);
          } catch {
            this.lines.push({ message: text });
          }
          newline = buffer.indexOf('\n');
        }
        this.notify();
      };
    };
    child.stdout?.on('data', onData(''));
    child.stderr?.on('data', onData(':stderr'));
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves with the first log line (already seen or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15000, what = 'a log line'): Promise<LogLine> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const line = this.lines.find(predicate);
        if (line) {
          cleanup();
          resolveLine(line);
        } else if (!this.alive) {
          cleanup();
          reject(new Error(`${this.name} exited before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      check();
    });
  }

  count(predicate: (line: LogLine) => boolean): number {
    return this.lines.filter(predicate).length;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGKILL if still alive, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export interface FaultEnv {
  id: string;
  controlDatabase: string;
  orgPrefix: string;
  queuePrefix: string;
  port: number;
  baseUrl: string;
  env: Record<string, string>;
}

/**
 * A fresh, isolated configuration: its own control DB, org prefix, queue prefix and port.
 * `label` names them (`orgms_<label>_<id>`, `<first letter><id>_`), e.g. 'fault' or 'bench'.
 */
export async function faultEnv(overrides: Record<string, string> = {}, label = 'fault'): Promise<FaultEnv> {
  const id = randomBytes(4).toString('hex');
  const port = await freePort();
  const controlDatabase = `orgms_${label}_${id}`;
  const orgPrefix = `${label[0]}${id}_`;
  const queuePrefix = `orgms-${label}-${id}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${controlDatabase}`,
    ORG_DATABASE_PREFIX: orgPrefix,
    QUEUE_PREFIX: queuePrefix,
    REDIS_URL: SHARED_REDIS_URL,
    PORT: String(port),
    JWT_SECRET: `fault-secret-${id}-0123456789abcdef0123456789`,
    BOOTSTRAP_ADMIN_EMAIL: FAULT_ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: FAULT_ADMIN_PASSWORD,
    BCRYPT_ROUNDS: '4',
    PROVISION_BACKOFF_MS: '100',
    RECONCILE_INTERVAL_MS: '600000',
    RECONCILE_STUCK_AFTER_MS: '60000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // A killed worker's jobs come back after about lock + stalled interval: keep that short here.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...overrides,
  };
  return { id, controlDatabase, orgPrefix, queuePrefix, port, baseUrl: `http://127.0.0.1:${port}`, env };
}

const PACKAGES = ['apps/api', 'apps/worker', 'libs/common', 'migrations'];
const ENTRY_POINTS = ['apps/api/dist/main.js', 'apps/worker/dist/main.js', 'libs/common/dist/index.js', 'migrations/dist/index.js'];
let snapshot: string | undefined;

/**
 * The compiled service, copied once per test run to a private directory, so another engineer's
 * `npm run build` (which first deletes every dist) cannot pull the code from under a running
 * fault test. The copy's node_modules links to the repository's dependencies, except the
 * workspace packages (@orgms/*), which point at the copied ones.
 */
export function builtService(): string {
  if (snapshot) return snapshot;
  const missing = ENTRY_POINTS.filter((entry) => !existsSync(join(ROOT, entry)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` before the fault suite`);
  const dir = mkdtempSync(join(tmpdir(), 'orgms-fault-build-'));
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
export function spawnService(kind: 'api' | 'worker', fe: FaultEnv, overrides: Record<string, string> = {}, name: string = kind): ServiceProcess {
  const child = spawn(process.execPath, [join(builtService(), 'apps', kind, 'dist', 'main.js')], {
    cwd: tmpdir(), // no .env from the repository leaks in
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fe.env, ...overrides },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const service = new ServiceProcess(name, child);
  started.push(service);
  return service;
}

/** Starts the API and waits until it listens and its control database is ready. */
export async function startApi(fe: FaultEnv, overrides: Record<string, string> = {}, name = 'api'): Promise<ServiceProcess> {
  const api = spawnService('api', fe, overrides, name);
  await waitUntil(async () => !api.alive || (await fetch(`${fe.baseUrl}/health`).catch(() => undefined))?.status === 200, 20000, 'the API to listen');
  if (!api.alive) throw new Error(`${name} exited at start`);
  await waitUntil(async () => (await fetch(`${fe.baseUrl}/auth/login`, { method: 'POST' }).catch(() => undefined))?.status !== 503, 20000, 'the API to serve');
  return api;
}

/** Starts a worker and waits until it consumes jobs and its template database is current. */
export async function startWorker(fe: FaultEnv, overrides: Record<string, string> = {}, name = 'worker'): Promise<ServiceProcess> {
  const worker = spawnService('worker', fe, overrides, name);
  await worker.waitForLog((l) => l.message === 'worker started', 20000, 'worker started');
  if ({ ...fe.env, ...overrides }.ORG_TEMPLATE_ENABLED !== 'false') {
    await worker.waitForLog((l) => l.message === 'template database' || /template/.test(String(l.message)), 20000, 'template refresh');
  }
  return worker;
}

export function processesStarted(): readonly ServiceProcess[] {
  return started;
}

/** Prints every started process's log lines (use in afterEach when a test failed). */
export function printLogs(): void {
  for (const service of started) {
    process.stdout.write(`\n----- logs of ${service.name} (${service.logs.length} lines) -----\n${service.logs.join('\n')}\n`);
  }
}

/**
 * The afterEach of a fault test: print the processes' logs if it failed, kill them, run
 * `dispose` (e.g. a throwaway Redis), then drop the environment's databases and Redis keys.
 */
export async function endFaultTest(test: Mocha.Test | undefined, fe: FaultEnv | undefined, dispose?: () => Promise<unknown>): Promise<void> {
  if (test?.state !== 'passed') printLogs();
  await killAll();
  await dispose?.();
  if (fe) await dropFaultResources(fe);
}

/** Kills every process still running (SIGKILL) and forgets them. */
export async function killAll(): Promise<void> {
  await Promise.all(started.map((s) => s.kill()));
  started.length = 0;
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
}

/** One query on the server's maintenance database (or another database of ours). */
export async function pgQuery<T extends Record<string, unknown> = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
  database = 'postgres',
): Promise<T[]> {
  const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export function controlQuery<T extends Record<string, unknown> = Record<string, unknown>>(fe: FaultEnv, sql: string, params: unknown[] = []): Promise<T[]> {
  return pgQuery<T>(sql, params, fe.controlDatabase);
}

/** Every database of this environment's org prefix, with its marker. */
export async function orgDatabases(fe: FaultEnv): Promise<Array<{ datname: string; marker: string | null }>> {
  return pgQuery<{ datname: string; marker: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname",
    [fe.orgPrefix],
  );
}

/** Terminates every backend connected to this environment's databases (control + org), never anyone else's. */
export async function terminateOwnBackends(fe: FaultEnv): Promise<number> {
  const rows = await pgQuery<{ pid: number }>(
    `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND (datname = $1 OR left(datname, length($2)) = $2)`,
    [fe.controlDatabase, fe.orgPrefix],
  );
  return rows.length;
}

/** Drops the environment's org databases, its control database and its Redis keys (on the shared Redis). */
export async function dropFaultResources(fe: FaultEnv): Promise<void> {
  const rows = await pgQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 OR datname = $2', [
    fe.orgPrefix,
    fe.controlDatabase,
  ]);
  for (const { datname } of rows) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(datname)) continue;
    await pgQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await deleteRedisKeys(SHARED_REDIS_URL, `${fe.queuePrefix}:*`);
}

export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // a throwaway Redis that is already gone has nothing left to clean
  } finally {
    redis.disconnect();
  }
}

/**
 * A throwaway redis-server of our own (never the shared one), so a test can make Redis
 * unreachable and bring it back on the same port. Nothing is persisted unless `persist` asks
 * for an RDB in a temporary directory (to model a restart of a Redis that keeps its data).
 */
export class ThrowawayRedis {
  private process?: ServiceProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'orgms-fault-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<ThrowawayRedis> {
    const redis = new ThrowawayRedis(await freePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = new ServiceProcess(`redis:${this.port}`, child);
    started.push(this.process);
    await waitUntil(
      async () => {
        const probe = new IORedis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      10000,
      `redis-server on port ${this.port}`,
      50,
    );
  }

  /** Stops the server. `save` writes its data first (a restart then finds it again). */
  async stop(options: { save?: boolean } = {}): Promise<void> {
    if (!this.process?.alive) return;
    if (options.save) {
      const client = new IORedis(this.url, { maxRetriesPerRequest: 1 });
      client.on('error', () => undefined);
      await client.call('SHUTDOWN', 'SAVE').catch(() => undefined);
      client.disconnect();
      await this.process.exited;
    } else {
      await this.process.kill();
    }
  }

  async dispose(): Promise<void> {
    await this.process?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A JSON answer of the API under test: read field by field in assertions. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: the answers of the API under test are inspected freely by the tests
  body: any;
}

/** A small HTTP client for the spawned API. */
export class ApiClient {
  private token?: string;

  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; auth?: boolean } = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.body !== undefined) headers['content-type'] ??= 'application/json';
    if (options.auth !== false) headers.authorization ??= `Bearer ${await this.adminToken()}`;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    // The same contract check as the in-process suites: even through outages and crashes, every answer is a documented one.
    assertContract({ method, url: path, status: res.status, headers: Object.fromEntries(res.headers.entries()), body, text });
    return { status: res.status, headers: res.headers, body };
  }

  async adminToken(): Promise<string> {
    if (!this.token) {
      const res = await this.request('POST', '/auth/login', { auth: false, body: { email: FAULT_ADMIN_EMAIL, password: FAULT_ADMIN_PASSWORD } });
      if (res.status !== 200) throw new Error(`admin login answered ${res.status}: ${JSON.stringify(res.body)}`);
      this.token = res.body.access_token as string;
    }
    return this.token;
  }

  async createOrganization(name: string, overrides: Record<string, unknown> = {}): Promise<ApiAnswer> {
    return this.request('POST', '/organizations', {
      body: { organization_name: name, email: 'owner@faults.test', password: 'correct horse battery', ...overrides },
    });
  }

  async status(id: string): Promise<{ status: string; [key: string]: unknown }> {
    return (await this.request('GET', `/organizations/${id}/status`)).body;
  }
}

/** Waits until every org of `ids` has a status in `statuses` (read from the control database). */
export async function waitForStatuses(fe: FaultEnv, ids: string[], statuses: string[], timeoutMs: number): Promise<Map<string, string>> {
  return waitUntil(
    async () => {
      const rows = await controlQuery<{ id: string; status: string }>(fe, 'SELECT id, status FROM organizations WHERE id = ANY($1::uuid[])', [ids]);
      const map = new Map(rows.map((r) => [r.id, r.status]));
      return ids.every((id) => statuses.includes(map.get(id) ?? '')) ? map : undefined;
    },
    timeoutMs,
    `${ids.length} organizations to be ${statuses.join('|')}`,
    200,
  );
}

/**
 * Exactly-once checks for a set of organizations: each has exactly one database, named from its
 * id and carrying its marker; no staging database is left over; no other database of the prefix
 * exists except the template; each org has exactly one `active` event.
 */
export async function assertProvisionedExactlyOnce(fe: FaultEnv, ids: string[]): Promise<void> {
  const databases = await orgDatabases(fe);
  const problems: string[] = [];
  const expected = new Map(ids.map((id) => [`${fe.orgPrefix}${id.replace(/-/g, '')}`, id]));
  for (const db of databases) {
    if (db.datname === `${fe.orgPrefix}template`) continue;
    const owner = expected.get(db.datname);
    if (!owner) problems.push(`unexpected database ${db.datname} (marker ${db.marker})`);
    else if (db.marker !== `orgms:organization:${owner}`) problems.push(`database ${db.datname} has marker ${db.marker}`);
  }
  for (const [name, id] of expected) {
    const count = databases.filter((d) => d.datname === name).length;
    if (count !== 1) problems.push(`org ${id} has ${count} databases`);
  }
  const events = await controlQuery<{ org_id: string; n: number }>(
    fe,
    "SELECT org_id, count(*)::int AS n FROM organization_events WHERE to_status = 'active' AND org_id = ANY($1::uuid[]) GROUP BY org_id",
    [ids],
  );
  const activeEvents = new Map(events.map((e) => [e.org_id, e.n]));
  for (const id of ids) if (activeEvents.get(id) !== 1) problems.push(`org ${id} has ${activeEvents.get(id) ?? 0} 'active' events`);
  if (problems.length > 0) throw new Error(`not provisioned exactly once:\n  ${problems.join('\n  ')}`);
}

/** Holds a PostgreSQL advisory lock on the server's `postgres` database (where DatabaseAdmin takes its locks). */
export class HeldAdvisoryLock {
  private constructor(private readonly client: Client) {}

  static async acquire(key: string): Promise<HeldAdvisoryLock> {
    const client = new Client({ connectionString: PG_SERVER_URL });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
    return new HeldAdvisoryLock(client);
  }

  /** How many other sessions wait for this lock right now. */
  async waiters(key: string): Promise<number> {
    const { rows } = await this.client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks l
        WHERE l.locktype = 'advisory' AND NOT l.granted
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)`,
      [key],
    );
    return rows[0].n;
  }

  async release(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
