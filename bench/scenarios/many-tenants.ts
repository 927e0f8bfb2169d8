import { setTimeout as sleep } from 'node:timers/promises';
import { templateNameFor } from '@orgms/common/tenancy/database-names';
import { controlQuery } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { type BenchServer, connect } from '../lib/fleet';
import { load } from '../lib/load';
import { inPool, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

/**
 * Creates `count` organizations (25 requests in flight) and waits until all are active; with
 * `servers`, they are placed round-robin on them (`database_server`), so each holds an equal share.
 */
export async function createActiveOrganizations(
  client: ServiceClient,
  count: number,
  label: string,
  servers: BenchServer[] = [],
): Promise<{ ids: string[]; ms: number }> {
  const started = performance.now();
  const ids: string[] = [];
  await inPool(
    Array.from({ length: count }, (_, i) => i),
    25,
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
          const { rows } = await pg.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $2`,
            [client.env.orgPrefix, templateNameFor(client.env.orgPrefix)],
          );
          peaks[servers[i].name] = Math.max(peaks[servers[i].name], rows[0].n);
        }),
      );
      await tick;
    }
  } finally {
    await Promise.all(pgs.map((pg) => pg.end()));
  }
  return peaks;
}

/**
 * Scenario 4: `ids` active orgs (spread over `servers`); `reads` user reads spread randomly over
 * all of them at 50 connections. The API's tenant connection budget applies per server (each
 * server's `connection_budget`): run.ts gives both servers the budget the one-server scenario had
 * (50, `TENANT_CONNECTION_BUDGET` for `default`, `connection_budget` of pg-b), so each server's
 * peak is checked against its own budget. With 5433 down it runs on `default` alone.
 */
export async function manyTenants(
  client: ServiceClient,
  ids: string[],
  reads: number,
  servers: BenchServer[],
  budgetOf: Record<string, number>,
): Promise<ResultRow[]> {
  const run = load({
    url: `${client.env.baseUrl}/organizations/${ids[0]}/users`,
    connections: 50,
    amount: reads,
    headers: { authorization: `Bearer ${client.token}` },
    path: () => `/organizations/${ids[Math.floor(Math.random() * ids.length)]}/users`,
  });
  const [result, perServerPeak] = await Promise.all([run, samplePerServerPeaks(client, servers, run)]);
  const failures = result.non2xx + result.errors;
  const scenario = `4 many tenants (${ids.length} orgs, ${servers.length} server${servers.length > 1 ? 's' : ''})`;
  return [
    {
      scenario,
      metric: `${reads} user reads: errors + non-2xx`,
      unit: 'count',
      service: failures,
      target: '0',
      met: failures === 0,
    },
    ...servers.map((server) => ({
      scenario,
      metric: `peak tenant connections on ${server.name}`,
      unit: 'conns',
      service: perServerPeak[server.name],
      target: `<= ${budgetOf[server.name]}`,
      met: perServerPeak[server.name] <= budgetOf[server.name],
      perServerPeak,
    })),
    {
      scenario,
      metric: 'p50 latency',
      unit: 'ms',
      service: result.p50Ms,
    },
    {
      scenario,
      metric: 'p99 latency',
      unit: 'ms',
      service: result.p99Ms,
      target: '< 100 (goal)',
      met: result.p99Ms < 100,
    },
    { scenario, metric: 'throughput', unit: 'req/s', service: round(result.requestsPerSecond) },
  ];
}
