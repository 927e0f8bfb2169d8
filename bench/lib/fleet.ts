import { setTimeout as sleep } from 'node:timers/promises';
import { databaseNameFor, quoteIdent, templateNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { controlQuery } from '../../harness/service-env';
import type { ServiceClient } from './service';

/** A database server of the bench's fleet: its registered name and the admin URL the bench measures it through. */
export interface BenchServer {
  name: string;
  adminUrl: string;
}

/** The server every spawned service registers at start (`ORG_DATABASE_URL`). */
export const DEFAULT_SERVER: BenchServer = { name: 'default', adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres' };
/** What `scripts/fleet/ensure-fleet-services.sh` starts: a second PostgreSQL on 5433 (trust). */
export const SECOND_SERVER: BenchServer = { name: 'pg-b', adminUrl: 'postgres://postgres@127.0.0.1:5433/postgres' };

/** `adminUrl` with another database. */
export function onDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A connected pg client; connection errors after connect are ignored (a dropped server ends the run elsewhere). */
export async function connect(url: string, timeoutMs = 5000): Promise<Client> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function serverQuery<T extends Record<string, unknown> = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = await connect(url);
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** Why the server cannot be used (undefined when it answers). */
export async function unreachable(server: BenchServer): Promise<string | undefined> {
  try {
    await serverQuery(server.adminUrl, 'SELECT 1');
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message || error.constructor.name : String(error);
  }
}

/**
 * Registers the second server through the API (`POST /database-servers`) with `budget` as its
 * `connection_budget`, or says why it cannot and returns only `default`. The caller restarts the
 * worker afterwards, so the worker builds `<prefix>template` there (templates are prepared at start).
 */
export async function registerSecondServer(client: ServiceClient, budget: number, capacity: number): Promise<BenchServer[]> {
  const reason = await unreachable(SECOND_SERVER);
  if (reason) {
    console.log(
      `  ${SECOND_SERVER.name} (${SECOND_SERVER.adminUrl}) is not reachable (${reason}): run \`bash scripts/fleet/ensure-fleet-services.sh\`; falling back to one server`,
    );
    return [DEFAULT_SERVER];
  }
  const added = await client.request('POST', '/database-servers', {
    name: SECOND_SERVER.name,
    admin_url: SECOND_SERVER.adminUrl,
    capacity,
    connection_budget: budget,
  });
  if (added.status !== 201) {
    console.log(`  POST /database-servers answered ${added.status} (${JSON.stringify(added.body)}); falling back to one server`);
    return [DEFAULT_SERVER];
  }
  return [DEFAULT_SERVER, SECOND_SERVER];
}

/** Each server's registered connection budget, as the API reports it. */
export async function budgets(client: ServiceClient): Promise<Record<string, number>> {
  const res = await client.request('GET', '/database-servers');
  const items = (res.body.items ?? []) as { name: string; connection_budget: number }[];
  return Object.fromEntries(items.map((s) => [s.name, s.connection_budget]));
}

/** Waits until `<prefix>template` exists on the server (the worker builds it under a staging name, then renames it). */
export async function waitForTemplate(server: BenchServer, prefix: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const template = templateNameFor(prefix);
  while (Date.now() < deadline) {
    const rows = await serverQuery(server.adminUrl, 'SELECT 1 FROM pg_database WHERE datname = $1', [template]);
    if (rows.length > 0) return;
    await sleep(100);
  }
  throw new Error(`${template} did not appear on ${server.name} within ${timeoutMs} ms`);
}

/** Organization id → the server it lives on (by the control database), for raw access beside the service. */
export async function serverOfOrganizations(client: ServiceClient, ids: string[], servers: BenchServer[]): Promise<Map<string, BenchServer>> {
  const rows = await controlQuery<{ id: string; server: string }>(
    client.env,
    'SELECT o.id, s.name AS server FROM organizations o JOIN database_servers s ON s.id = o.database_server_id WHERE o.id = ANY($1)',
    [ids],
  );
  const byName = new Map(servers.map((s) => [s.name, s]));
  return new Map(rows.map((r) => [r.id, byName.get(r.server) ?? DEFAULT_SERVER]));
}

/**
 * The server an active organization's database is on now (its placement, or a move, decides: with
 * two servers registered it is often not `default`), so raw access beside the service reaches it.
 */
export async function serverOfOrganization(client: ServiceClient, id: string, servers: BenchServer[]): Promise<BenchServer> {
  const server = (await serverOfOrganizations(client, [id], servers)).get(id);
  if (!server) throw new Error(`organization ${id} has no database server`);
  return server;
}

/** Drops every database (then every organization role) with the prefix on the server (the harness cleans only 5432). Never throws. */
export async function dropPrefixedDatabases(server: BenchServer, prefix: string): Promise<number> {
  try {
    const rows = await serverQuery<{ datname: string }>(server.adminUrl, 'SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1', [prefix]);
    for (const { datname } of rows) await serverQuery(server.adminUrl, `DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    const roles = await serverQuery<{ rolname: string }>(server.adminUrl, 'SELECT rolname FROM pg_roles WHERE left(rolname, length($1)) = $1', [prefix]);
    for (const { rolname } of roles) await serverQuery(server.adminUrl, `DROP ROLE IF EXISTS ${quoteIdent(rolname)}`);
    return rows.length;
  } catch {
    return 0; // a server that is gone has nothing left to clean
  }
}

/** The organization's database on the server it was placed on (one of `servers`), as the admin role. */
export async function organizationDatabaseUrl(client: ServiceClient, orgId: string, servers: BenchServer[]): Promise<string> {
  return onDatabase((await serverOfOrganization(client, orgId, servers)).adminUrl, databaseNameFor(orgId, client.env.orgPrefix));
}

/** Adds `users` members with bcrypt-sized hashes straight into the organization's database (fast setup, not measured). */
export async function addBenchUsers(client: ServiceClient, orgId: string, users: number, servers: BenchServer[]): Promise<void> {
  const pg = await connect(await organizationDatabaseUrl(client, orgId, servers));
  try {
    await pg.query(
      `INSERT INTO users (id, email, password_hash, role)
       SELECT gen_random_uuid(), 'user' || n || '@bench.test', '$2b$10$' || rpad(md5(n::text), 53, 'x'), 'member' FROM generate_series(1, $1) AS n`,
      [users],
    );
    await pg.query('VACUUM ANALYZE users');
  } finally {
    await pg.end();
  }
}
