import { setTimeout as sleep } from 'node:timers/promises';
import { databaseNameFor, templateNameFor } from '@orgms/common/tenancy/database-names';
import { controlQuery } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { type BenchServer, connect, DEFAULT_SERVER, onDatabase, serverOfOrganizations } from '../lib/fleet';
import { type LoadResult, load } from '../lib/load';
import { sampleRss } from '../lib/memory';
import { seededRandom, zipfSampler } from '../lib/sampling';
import { inPool, type ServiceClient } from '../lib/service';
import { percentile, type ResultRow, round } from '../lib/stats';

/**
 * Creates `count` organizations (`inFlight` requests in flight, 25 unless told) and waits until all are active; with
 * `servers`, they are placed round-robin on them (`database_server`), so each holds an equal share.
 */
export async function createActiveOrganizations(
  client: ServiceClient,
  count: number,
  label: string,
  servers: BenchServer[] = [],
  inFlight = 25,
): Promise<{ ids: string[]; ms: number }> {
  const started = performance.now();
  const ids: string[] = [];
  await inPool(
    Array.from({ length: count }, (_, i) => i),
    inFlight,
    async (i) => {
      ids.push(await client.createOrganization(`${label} ${i} ${client.env.id}`, servers.length > 1 ? servers[i % servers.length].name : undefined));
    },
  );
  await waitUntil(
    async () => {
      const [{ active, failed }] = await controlQuery<{ active: number; failed: number }>(
        client.env,
        `SELECT count(*) FILTER (WHERE status = 'active' AND id = ANY($1))::int AS active, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM organizations`,
        [ids],
      );
      if (failed > 0) throw new Error(`${failed} organizations failed`);
      return active === ids.length;
    },
    30 * 60_000,
    `${count} organizations to be active`,
    200,
  );
  return { ids, ms: performance.now() - started };
}

const SAMPLE_EVERY_MS = 50;

/** This run's connections to its organization databases (template excluded) on one server. */
async function tenantConnections(client: ServiceClient, pg: Awaited<ReturnType<typeof connect>>): Promise<number> {
  const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $2`, [
    client.env.orgPrefix,
    templateNameFor(client.env.orgPrefix),
  ]);
  return rows[0].n;
}

/** Waits (up to 10 s; then says so and goes on) until no server shows a connection to this run's organization databases. */
async function untilNoTenantConnections(client: ServiceClient, servers: BenchServer[]): Promise<void> {
  const pgs = await Promise.all(servers.map((server) => connect(server.adminUrl)));
  try {
    await waitUntil(async () => (await Promise.all(pgs.map((pg) => tenantConnections(client, pg)))).every((n) => n === 0), 10000, 'no tenant connections', 20);
  } catch (error) {
    console.log(`  ${(error as Error).message}: the reads start anyway`);
  } finally {
    await Promise.all(pgs.map((pg) => pg.end()));
  }
}

/**
 * Samples, every 50 ms on each server at once, how many connections there are to this run's
 * organization databases (template excluded); returns the peak per server name.
 */
async function samplePerServerPeaks(client: ServiceClient, servers: BenchServer[], until: Promise<unknown>): Promise<Record<string, number>> {
  const pgs = await Promise.all(servers.map((server) => connect(server.adminUrl)));
  const peaks: Record<string, number> = Object.fromEntries(servers.map((s) => [s.name, 0]));
  let done = false;
  void until.finally(() => {
    done = true;
  });
  try {
    while (!done) {
      const tick = sleep(SAMPLE_EVERY_MS);
      await Promise.all(
        pgs.map(async (pg, i) => {
          peaks[servers[i].name] = Math.max(peaks[servers[i].name], await tenantConnections(client, pg));
        }),
      );
      await tick;
    }
  } finally {
    await Promise.all(pgs.map((pg) => pg.end()));
  }
  return peaks;
}

/** Concurrency of every read pass of scenario 4 (the service's and the cold floor's). */
export const TENANT_READ_CONNECTIONS = 50;
/** Seeds of the access patterns (the same sequence of organizations in every run). */
const UNIFORM_SEED = 1;
const ZIPF_SEED = 2;
const ZIPF_S = 1;
/** Issue 25: each pass's p99 at most 1.2x the cold floor's p99. */
const TARGET_RATIO = 1.2;
/** The SELECT of `GET /organizations/:id/users` (first page of 50 + 1, oldest first). */
const LIST_USERS = `SELECT id, email, role, is_active, created_at, updated_at, last_login_at FROM users
  ORDER BY date_trunc('milliseconds', created_at), id LIMIT 51`;

/**
 * The cold floor of a tenant read: a raw pg connect to a random organization's database (on its
 * own server), the users SELECT, and close; `count` of them, `TENANT_READ_CONNECTIONS` at once,
 * uniformly random over `ids` (seeded). Returns each one's milliseconds.
 */
async function coldFloor(client: ServiceClient, ids: string[], count: number, servers: BenchServer[]): Promise<number[]> {
  const placed = await serverOfOrganizations(client, ids, servers);
  const random = seededRandom(UNIFORM_SEED + 100);
  const picks = Array.from({ length: count }, () => ids[Math.floor(random() * ids.length)]);
  const times: number[] = [];
  await inPool(picks, TENANT_READ_CONNECTIONS, async (id) => {
    const started = performance.now();
    const server = placed.get(id) ?? DEFAULT_SERVER;
    const pg = await connect(onDatabase(server.adminUrl, databaseNameFor(id, client.env.orgPrefix)));
    try {
      await pg.query(LIST_USERS);
    } finally {
      await pg.end();
    }
    times.push(performance.now() - started);
  });
  return times;
}

/** The API's tenant pool lookups so far (`orgms_tenant_pool_lookups_total`, all servers): hits found their pool open, misses opened one. */
async function poolLookups(client: ServiceClient): Promise<{ hit: number; miss: number }> {
  const text = await (await fetch(`${client.env.baseUrl}/metrics`)).text();
  const totals = { hit: 0, miss: 0 };
  for (const [, outcome, value] of text.matchAll(/^orgms_tenant_pool_lookups_total\{[^}]*outcome="(hit|miss)"[^}]*\} (\d+)$/gm)) {
    totals[outcome as 'hit' | 'miss'] += Number(value);
  }
  return totals;
}

/** One read pass through the API: `reads` user reads at 50 connections, each organization chosen by `pick`; with per-server peaks, the API's RSS and its pool hit rate. */
async function readPass(
  client: ServiceClient,
  ids: string[],
  reads: number,
  servers: BenchServer[],
  apiPid: number | undefined,
  pick: () => number,
): Promise<{ result: LoadResult; perServerPeak: Record<string, number>; rss: { peakMb: number; lastMb: number }; hitRate: number }> {
  const before = await poolLookups(client);
  const run = load({
    url: `${client.env.baseUrl}/organizations/${ids[0]}/users`,
    connections: TENANT_READ_CONNECTIONS,
    amount: reads,
    headers: { authorization: `Bearer ${client.token}` },
    path: () => `/organizations/${ids[pick()]}/users`,
  });
  const [result, perServerPeak, rss] = await Promise.all([run, samplePerServerPeaks(client, servers, run), sampleRss(apiPid, run)]);
  const after = await poolLookups(client);
  const hits = after.hit - before.hit;
  return { result, perServerPeak, rss, hitRate: hits / (hits + after.miss - before.miss) };
}

/**
 * Scenario 4: `ids` active orgs (spread over `servers`). First the cold floor (raw connect +
 * SELECT + close to a random organization's database, `floorCount` of them at 50 at once) while
 * the API holds no tenant connection; then `reads` user reads through the API at 50 connections,
 * twice: organizations drawn uniformly, then by Zipf s = 1 over the organizations (rank k drawn
 * ∝ 1/(k+1)); target for both: p99 ≤ 1.2x the cold floor's p99. Both samplers are seeded. Each
 * pass reports the API's tenant pool hit rate (from `/metrics`). The API's tenant connection budget applies per server (each server's
 * `connection_budget`): each server's peak, sampled every 50 ms, is checked against its own
 * budget. The API's RSS is sampled every 100 ms during both passes. With 5433 down it runs on
 * `default` alone.
 */
export async function manyTenants(
  client: ServiceClient,
  ids: string[],
  reads: number,
  floorCount: number,
  servers: BenchServer[],
  budgetOf: Record<string, number>,
  apiPid?: number,
): Promise<ResultRow[]> {
  const floor = await coldFloor(client, ids, floorCount, servers);
  const floorP50 = round(percentile(floor, 50));
  const floorP99 = round(percentile(floor, 99));
  // A closed session leaves pg_stat_activity a moment after its client is gone: start the service's reads from none.
  await untilNoTenantConnections(client, servers);

  const uniformRandom = seededRandom(UNIFORM_SEED);
  const uniform = await readPass(client, ids, reads, servers, apiPid, () => Math.floor(uniformRandom() * ids.length));
  const zipf = await readPass(client, ids, reads, servers, apiPid, zipfSampler(ids.length, ZIPF_S, seededRandom(ZIPF_SEED)));

  const where = `${ids.length} orgs, ${servers.length} server${servers.length > 1 ? 's' : ''}`;
  const rows: ResultRow[] = [];
  for (const [label, pass] of [
    ['uniform', uniform],
    [`Zipf s=${ZIPF_S}`, zipf],
  ] as const) {
    const scenario = `4 many tenants, ${label} (${where})`;
    const failures = pass.result.non2xx + pass.result.errors;
    const p99 = pass.result.p99Ms;
    const p99Row: ResultRow = {
      scenario,
      metric: 'p99 latency (floor: cold connect + SELECT + close)',
      unit: 'ms',
      service: p99,
      floor: floorP99,
      ratio: round(p99 / floorP99, 2),
      target: `<= ${TARGET_RATIO}x`,
      met: p99 <= TARGET_RATIO * floorP99,
      note: `cold floor: ${floorCount} raw connect + SELECT + close to a random org database, ${TENANT_READ_CONNECTIONS} at once`,
    };
    rows.push(
      {
        scenario,
        metric: `${reads} user reads: errors + non-2xx`,
        unit: 'count',
        service: failures,
        target: '0',
        met: failures === 0,
        note: `by status: ${JSON.stringify(pass.result.statusCodes)}; connection errors and timeouts: ${pass.result.errors}`,
      },
      ...servers.map((server) => ({
        scenario,
        metric: `peak tenant connections on ${server.name}`,
        unit: 'conns',
        service: pass.perServerPeak[server.name],
        target: `<= ${budgetOf[server.name]}`,
        met: pass.perServerPeak[server.name] <= budgetOf[server.name],
        perServerPeak: pass.perServerPeak,
      })),
      { scenario, metric: 'p50 latency (floor: cold connect + SELECT + close)', unit: 'ms', service: pass.result.p50Ms, floor: floorP50 },
      p99Row,
      { scenario, metric: 'tenant pool hit rate (calls that found their pool open)', unit: '%', service: round(100 * pass.hitRate, 1) },
      { scenario, metric: 'throughput', unit: 'req/s', service: round(pass.result.requestsPerSecond) },
      { scenario, metric: 'API RSS, peak during the reads', unit: 'MB', service: round(pass.rss.peakMb), note: `after: ${round(pass.rss.lastMb)} MB` },
    );
  }
  return rows;
}
