import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { Client } from 'pg';

/**
 * An isolated environment for a spawned API and worker (the fault suite, the benchmarks): its own
 * control database, org-database prefix, queue prefix and port on the shared PostgreSQL and Redis,
 * so runs never see each other's data, and everything it created can be dropped afterwards.
 */

export const PG_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The platform admin every spawned API creates at start (BOOTSTRAP_ADMIN_*). */
export const SERVICE_ADMIN_EMAIL = 'root@faults.test';
export const SERVICE_ADMIN_PASSWORD = 'fault-admin-password';

export interface ServiceEnv {
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
export async function isolatedServiceEnv(overrides: Record<string, string> = {}, label = 'fault'): Promise<ServiceEnv> {
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
    JWT_SECRET: `${label}-secret-${id}-0123456789abcdef0123456789`,
    BOOTSTRAP_ADMIN_EMAIL: SERVICE_ADMIN_EMAIL,
    BOOTSTRAP_ADMIN_PASSWORD: SERVICE_ADMIN_PASSWORD,
    BCRYPT_ROUNDS: '4',
    PROVISION_BACKOFF_MS: '100',
    MIGRATION_BACKOFF_MS: '100',
    RECONCILE_INTERVAL_MS: '600000',
    RECONCILE_STUCK_AFTER_MS: '60000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // A killed worker's jobs come back after about lock + stalled interval: keep that short here.
    WORKER_LOCK_DURATION_MS: '5000',
    WORKER_STALLED_INTERVAL_MS: '2000',
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    // Files the environment writes live under its own directory, removed with the rest of it.
    ARCHIVE_DIR: join(filesDirOf(id), 'archives'),
    EXPORT_DIR: join(filesDirOf(id), 'exports'),
    BACKUP_DIR: join(filesDirOf(id), 'backups'),
    // No spare databases unless asked for (the benchmarks and the spare specs set SPARE_DATABASES): the others count databases.
    SPARE_DATABASES: '0',
    ...overrides,
  };
  return { id, controlDatabase, orgPrefix, queuePrefix, port, baseUrl: `http://127.0.0.1:${port}`, env };
}

/** A TCP port nobody listens on right now. */
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

/** One query on the environment's control database. */
export function controlQuery<T extends Record<string, unknown> = Record<string, unknown>>(fe: ServiceEnv, sql: string, params: unknown[] = []): Promise<T[]> {
  return pgQuery<T>(sql, params, fe.controlDatabase);
}

/** Where an environment's archives and exports are written. */
function filesDirOf(id: string): string {
  return join(tmpdir(), `orgms-env-${id}`);
}

/** Drops the environment's org databases and roles, its control database, its Redis keys (on the shared Redis) and its files. */
export async function dropServiceResources(fe: ServiceEnv): Promise<void> {
  await rm(filesDirOf(fe.id), { recursive: true, force: true });
  const rows = await pgQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1 OR datname = $2', [
    fe.orgPrefix,
    fe.controlDatabase,
  ]);
  for (const { datname } of rows) {
    if (!/^[a-z][a-z0-9_]{0,62}$/.test(datname)) continue;
    await pgQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  // The organizations' own login roles, named like their databases, once those are gone.
  const roles = await pgQuery<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1', [fe.orgPrefix]);
  for (const { rolname } of roles) {
    if (/^[a-z][a-z0-9_]{0,62}$/.test(rolname)) await pgQuery(`DROP ROLE IF EXISTS "${rolname}"`);
  }
  await deleteRedisKeys(SHARED_REDIS_URL, `${fe.queuePrefix}:*`);
}

/** Deletes the keys matching `pattern`; a Redis that is gone already has nothing to clean. */
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
