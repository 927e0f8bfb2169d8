import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiRuntime, startApiRuntime } from '@orgms/api/api-runtime';
import { type IssuedToken, TokenIssuer } from '@orgms/api/sign-in/tokens';
import { type Clock, systemClock } from '@orgms/common/clock';
import { type Config, loadConfig } from '@orgms/common/config';
import { createLogger, type Logger } from '@orgms/common/logger';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { isRedisClusterUrl } from '@orgms/common/queues/redis-url';
import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { startWorkerRuntime, type WorkerOptions, type WorkerRuntime } from '@orgms/worker/worker-runtime';
import { Cluster } from 'ioredis';
import { Client } from 'pg';
import type supertest from 'supertest';
import { contractCheckedRequest } from './contract';

export const ADMIN_EMAIL = 'root@platform.test';
export const ADMIN_PASSWORD = 'platform-admin-password';

/**
 * A whole service for one test suite against the real PostgreSQL and Redis: its own control
 * database, org-database prefix and queue prefix, so suites never see each other's data, and
 * `stop()` drops everything it created.
 */
export interface TestStack {
  id: string;
  config: Config;
  logger: Logger;
  /** The clock the API and every worker of the suite decide expiries by. */
  clock: Clock;
  api: ApiRuntime;
  request: ReturnType<typeof supertest>;
  worker?: WorkerRuntime;
  startWorker: (options?: WorkerOptions, env?: Record<string, string>) => Promise<WorkerRuntime>;
  adminToken: () => Promise<string>;
  stop: () => Promise<void>;
}

export interface StackOptions {
  worker?: boolean | WorkerOptions;
  env?: Record<string, string>;
  /** A ManualClock (support/manual-clock.ts) lets the suite move time instead of rewriting rows. */
  clock?: Clock;
}

const RATE_LIMIT_VARIABLES = [
  'RATE_LIMIT_READS',
  'RATE_LIMIT_WRITES',
  'RATE_LIMIT_EXPENSIVE',
  'PLATFORM_RATE_LIMIT_READS',
  'PLATFORM_RATE_LIMIT_WRITES',
  'PLATFORM_RATE_LIMIT_EXPENSIVE',
];

export function testConfig(id: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/orgms_test_${id}`,
    ORG_DATABASE_PREFIX: `t${id}_`,
    QUEUE_PREFIX: `orgms-test-${id}`,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    JWT_SECRET: `test-secret-${id}-0123456789abcdef0123456789`,
    BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BCRYPT_ROUNDS: '4',
    PROVISION_BACKOFF_MS: '50',
    MIGRATION_BACKOFF_MS: '50',
    RECONCILE_INTERVAL_MS: '600000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'debug',
    WORKER_METRICS_PORT: '0', // several workers share this process
    // Files a suite writes live under its own directory, removed with the rest of its resources.
    ARCHIVE_DIR: join(suiteFilesDir(id), 'archives'),
    EXPORT_DIR: join(suiteFilesDir(id), 'exports'),
    // Suites send requests as fast as they can: far above any request rate, unless a suite sets its own.
    ...Object.fromEntries(RATE_LIMIT_VARIABLES.map((name) => [name, '1000000'])),
    // ...and in parallel (many suites' requests at once per organization), served without waiting their turn.
    ADMISSION_CONCURRENCY: '100000',
    ADMISSION_ORGANIZATION_CONCURRENCY: '100000',
    BACKUP_DIR: join(suiteFilesDir(id), 'backups'),
    // No spare databases unless a suite asks for them (test/spare-databases.test.ts): the others count databases and clones.
    SPARE_DATABASES: '0',
    ...env,
  });
}

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const id = randomBytes(4).toString('hex');
  const config = testConfig(id, options.env);
  const logger = createLogger('test', config.runtime.logLevel);
  logger.silent = !process.env.TEST_LOGS;
  const clock = options.clock ?? systemClock;
  const api = startApiRuntime(config, logger, { clock });
  await api.ready;
  const workers: WorkerRuntime[] = [];
  // The platform admin's token, until it expires by the suite's clock (a suite may move it days ahead).
  let token: { text: string; expiresAt: number } | undefined;

  const stack: TestStack = {
    id,
    config,
    logger,
    clock,
    api,
    request: contractCheckedRequest(api.app),
    async startWorker(workerOptions = {}, env = {}) {
      const worker = startWorkerRuntime(testConfig(id, { ...options.env, ...env }), logger, { clock, ...workerOptions });
      workers.push(worker);
      await worker.ready;
      return worker;
    },
    async adminToken() {
      if (!token || token.expiresAt <= clock.now().getTime()) {
        const res = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
        // A suite whose API has no Redis on purpose cannot log in (the login throttle refuses, 503): it gets the token a login would give.
        const issued = res.status === 503 && /login-throttle-unavailable$/.test(res.body.type) ? await tokenWithoutLogin(config, clock) : res.body;
        if (!issued.access_token) throw new Error(`admin login answered ${res.status}: ${JSON.stringify(res.body)}`);
        token = { text: issued.access_token as string, expiresAt: clock.now().getTime() + issued.expires_in * 1000 };
      }
      return token.text;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await api.stop();
      await dropTestResources(config, id);
    },
  };
  if (options.worker) stack.worker = await stack.startWorker(options.worker === true ? {} : options.worker);
  return stack;
}

/** Where a suite's archives and exports are written. */
export function suiteFilesDir(id: string): string {
  return join(tmpdir(), `orgms-test-${id}`);
}

/** Drops the suite's org databases, its control database, its Redis keys and its files. */
/** The bootstrap platform admin's access token, issued as its login would issue it (same key, claims and token version). */
async function tokenWithoutLogin(config: Config, clock: Clock): Promise<IssuedToken> {
  const client = new Client({ connectionString: config.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; token_version: number }>('SELECT id, token_version FROM platform_admins WHERE lower(email) = lower($1)', [
      ADMIN_EMAIL,
    ]);
    return new TokenIssuer(config.auth.jwt, clock).issue({ sub: rows[0].id, role: 'platform_admin', ver: rows[0].token_version });
  } finally {
    await client.end();
  }
}

export async function dropTestResources(config: Config, id: string): Promise<void> {
  await rm(suiteFilesDir(id), { recursive: true, force: true });
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`, [
      `t${id}\\_%`,
      `orgms_test_${id}`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    await dropOrganizationRoles(client, id);
  } finally {
    await client.end();
  }
  await dropSecondServerDatabases(id);
  // The suite may have pointed the service at a dead Redis on purpose; clean up on the real one,
  // or on the Redis Cluster the suite used.
  const redisUrl = isRedisClusterUrl(config.queue.redisUrl) ? config.queue.redisUrl : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await deleteRedisKeys(redisUrl, `${config.queue.prefix}:*`);
}

/** Deletes the keys matching `pattern`; on a cluster, on every master (each holds its own slots). */
async function deleteRedisKeys(redisUrl: string, pattern: string): Promise<void> {
  const redis = createRedis({ redisUrl }, 'worker');
  try {
    if (redis instanceof Cluster && redis.status !== 'ready') await once(redis, 'ready');
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        // One DEL per key: a cluster refuses a DEL whose keys lie in different slots.
        if (keys.length > 0) await Promise.all(keys.map((key) => node.del(key)));
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    await closeRedis(redis);
  }
}

/** The second PostgreSQL of the fleet specs (scripts/fleet/ensure-fleet-services.sh), when it runs. */
export const SECOND_SERVER_URL = process.env.SECOND_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';

/** Drops the suite's org databases (and template) on the second server; nothing to do when it does not run. */
async function dropSecondServerDatabases(id: string): Promise<void> {
  const client = new Client({ connectionString: SECOND_SERVER_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    return;
  }
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`t${id}\\_%`]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    await dropOrganizationRoles(client, id);
  } finally {
    await client.end();
  }
}

/**
 * The organizations' own login roles of the suite (named like their databases), once their
 * databases are gone, and its admin roles, whose CONNECT on `postgres` (granted because PUBLIC
 * has none) DROP OWNED takes away first.
 */
async function dropOrganizationRoles(client: Client, id: string): Promise<void> {
  const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`t${id}\\_%`]);
  for (const { rolname } of rows) await client.query(`DROP OWNED BY ${quoteIdent(rolname)}; DROP ROLE IF EXISTS ${quoteIdent(rolname)}`);
}
