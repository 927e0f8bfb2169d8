import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';
import {
  controlQuery,
  dropServiceResources,
  freePort,
  PG_SERVER_URL,
  pgQuery,
  SERVICE_ADMIN_EMAIL,
  SERVICE_ADMIN_PASSWORD,
  type ServiceEnv,
} from '../../harness/service-env';
import { killAll, printLogs, ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { assertContract } from './contract';

/**
 * What the fault suite (test/faults) and the operator specs do with the real processes that
 * harness/ spawns: end a test cleanly, break things (a throwaway Redis, terminated backends, a
 * held advisory lock), talk to the API with every answer checked against the contract, and
 * check that each organization was provisioned exactly once.
 */

/**
 * The afterEach of a fault test: print the processes' logs if it failed, kill them, run
 * `dispose` (e.g. a throwaway Redis), then drop the environment's databases and Redis keys.
 */
export async function endFaultTest(test: Mocha.Test | undefined, fe: ServiceEnv | undefined, dispose?: () => Promise<unknown>): Promise<void> {
  if (test?.state !== 'passed') printLogs();
  await killAll();
  await dispose?.();
  if (fe) await dropServiceResources(fe);
}

/** Every database of this environment's org prefix, with its marker. */
export async function orgDatabases(fe: ServiceEnv): Promise<Array<{ datname: string; marker: string | null }>> {
  return pgQuery<{ datname: string; marker: string | null }>(
    "SELECT datname, shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname",
    [fe.orgPrefix],
  );
}

/** Terminates every backend connected to this environment's databases (control + org), never anyone else's. */
export async function terminateOwnBackends(fe: ServiceEnv): Promise<number> {
  const rows = await pgQuery<{ pid: number }>(
    `SELECT pg_terminate_backend(pid) AS ok, pid FROM pg_stat_activity
      WHERE pid <> pg_backend_pid() AND (datname = $1 OR left(datname, length($2)) = $2)`,
    [fe.controlDatabase, fe.orgPrefix],
  );
  return rows.length;
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
      const res = await this.request('POST', '/auth/login', { auth: false, body: { email: SERVICE_ADMIN_EMAIL, password: SERVICE_ADMIN_PASSWORD } });
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
export async function waitForStatuses(fe: ServiceEnv, ids: string[], statuses: string[], timeoutMs: number): Promise<Map<string, string>> {
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
export async function assertProvisionedExactlyOnce(fe: ServiceEnv, ids: string[]): Promise<void> {
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
