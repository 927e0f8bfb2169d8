import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { startApi, startWorker } from '../../harness/built-service';
import { dropServiceResources, freePort, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { killAll, type ServiceProcess } from '../../harness/service-process';
import { ApiClient } from './service-processes';

/**
 * The fleet of the scale suites (test/scale) as real processes: two APIs and two workers from
 * `dist`, the control plane on 5432, a second PostgreSQL on 5433 and one PgBouncer in front of
 * both, whose entries file the workers write (what scripts/fleet/ensure-fleet-services.sh starts).
 */

export const DEFAULT_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
export const SECOND_SERVER = 'postgres://postgres@127.0.0.1:5433/postgres';
export const PGBOUNCER_POOL = 'postgres://postgres@127.0.0.1:6432/postgres';
export const PGBOUNCER_ADMIN = 'postgres://postgres@127.0.0.1:6432/pgbouncer';
export const DATABASES_FILE = '/tmp/orgms-fleet/pgbouncer/databases.ini';

/** One query on `url` through a connection of its own. */
export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** PgBouncer's console takes only simple queries without parameters. */
export async function pgbouncerConsole<T = Record<string, unknown>>(command: string): Promise<T[]> {
  return query<T>(PGBOUNCER_ADMIN, command);
}

/** PgBouncer's `max_db_connections`: server connections it opens per database at most. */
export async function pgbouncerMaxDbConnections(): Promise<number> {
  const rows = await pgbouncerConsole<{ key: string; value: string }>('SHOW CONFIG');
  return Number(rows.find((r) => r.key === 'max_db_connections')?.value);
}

/** Tenant backends of this environment on one server (its org databases, not the template): all, and those in a transaction. */
export async function tenantBackends(serverUrl: string, prefix: string): Promise<{ all: number; busy: number }> {
  const [row] = await query<{ all: number; busy: number }>(
    serverUrl,
    `SELECT count(*)::int AS all, (count(*) FILTER (WHERE state <> 'idle'))::int AS busy
       FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $1 || 'template'`,
    [prefix],
  );
  return row;
}

export interface Fleet {
  fe: ServiceEnv;
  api1: ApiClient;
  api2: ApiClient;
  workers: ServiceProcess[];
}

/**
 * An isolated environment (label 'scale') wired to the shared PgBouncer, with API #1 on
 * `fe.port`, API #2 on a port of its own and two workers, each platform-admin client logged in.
 */
export async function startFleet(env: Record<string, string> = {}): Promise<Fleet> {
  const fe = await isolatedServiceEnv({ PGBOUNCER_DATABASES_FILE: DATABASES_FILE, PGBOUNCER_ADMIN_URL: PGBOUNCER_ADMIN, ...env }, 'scale');
  const port2 = await freePort();
  await startApi(fe, {}, 'api-1');
  await startApi({ ...fe, port: port2, baseUrl: `http://127.0.0.1:${port2}` }, { PORT: String(port2) }, 'api-2');
  const workers = [await startWorker(fe, {}, 'worker-1'), await startWorker(fe, {}, 'worker-2')];
  const api1 = new ApiClient(fe.baseUrl);
  const api2 = new ApiClient(`http://127.0.0.1:${port2}`);
  await api1.adminToken();
  await api2.adminToken();
  return { fe, api1, api2, workers };
}

/**
 * Registers pg-b (the second server, pooled through PgBouncer) and gives `default` the same pool
 * URL, with these capacities and connection budget; then waits until every process re-read the
 * fleet (within 5 s: fleet/server-directory.ts). Returns the status of each answer and pg-b's id.
 */
export async function registerSecondServer(
  fleet: Fleet,
  options: { capacity: number; defaultCapacity: number; budget: number },
): Promise<{ added: { status: number; body: unknown }; changed: { status: number; body: unknown }; pgB: string }> {
  const added = await fleet.api1.request('POST', '/database-servers', {
    body: { name: 'pg-b', admin_url: SECOND_SERVER, pool_url: PGBOUNCER_POOL, capacity: options.capacity, connection_budget: options.budget },
  });
  const servers = (await fleet.api1.request('GET', '/database-servers')).body.items as { id: string; name: string }[];
  const fallback = servers.find((s) => s.name === 'default') as { id: string };
  const changed = await fleet.api2.request('PATCH', `/database-servers/${fallback.id}`, {
    body: { capacity: options.defaultCapacity, pool_url: PGBOUNCER_POOL, connection_budget: options.budget },
  });
  await sleep(5500);
  return { added, changed, pgB: added.body?.id as string };
}

/**
 * Kills every process, drops the environment's databases (and organizations' roles) on both servers, its control database
 * and Redis keys, then takes its lines out of the shared PgBouncer entries file and reloads.
 */
export async function stopFleet(fe: ServiceEnv | undefined): Promise<void> {
  await killAll();
  if (!fe) return;
  await dropOrganizationsOn(SECOND_SERVER, fe.orgPrefix);
  await dropServiceResources(fe);
  const lines = (await readFile(DATABASES_FILE, 'utf8').catch(() => '')).split('\n');
  await writeFile(DATABASES_FILE, lines.filter((line) => !line.startsWith(fe.orgPrefix)).join('\n'));
  await pgbouncerConsole('RELOAD').catch(() => undefined);
}

/** Drops the organization databases, then their login roles (named like them), whose names start with `prefix` on the server at `url`. */
export async function dropOrganizationsOn(url: string, prefix: string): Promise<void> {
  const theirs = await query<{ datname: string }>(url, 'SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1', [prefix]);
  for (const { datname } of theirs) await query(url, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  const roles = await query<{ rolname: string }>(url, 'SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1', [prefix]);
  for (const { rolname } of roles) await query(url, `DROP ROLE IF EXISTS "${rolname}"`);
}
