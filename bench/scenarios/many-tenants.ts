import { templateNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { controlQuery } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { load } from '../lib/load';
import { inPool, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

/** Creates `count` organizations (25 requests in flight) and waits until all are active. */
export async function createActiveOrganizations(client: ServiceClient, count: number, label: string): Promise<{ ids: string[]; ms: number }> {
  const started = performance.now();
  const ids: string[] = [];
  await inPool(
    Array.from({ length: count }, (_, i) => i),
    25,
    async (i) => {
      ids.push(await client.createOrganization(`${label} ${i} ${client.env.id}`));
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

/** Samples how many connections the service holds to organization databases (template excluded). */
async function sampleTenantConnections(client: ServiceClient, until: Promise<unknown>): Promise<number> {
  const pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await pg.connect();
  let peak = 0;
  let done = false;
  void until.finally(() => {
    done = true;
  });
  try {
    while (!done) {
      const { rows } = await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $2`, [
        client.env.orgPrefix,
        templateNameFor(client.env.orgPrefix),
      ]);
      peak = Math.max(peak, rows[0].n);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await pg.end();
  }
  return peak;
}

/** Scenario 4: `orgs` active orgs; `reads` user reads spread randomly over all of them at 50 connections. */
export async function manyTenants(client: ServiceClient, ids: string[], reads: number, budget: number): Promise<ResultRow[]> {
  const run = load({
    url: `${client.env.baseUrl}/organizations/${ids[0]}/users`,
    connections: 50,
    amount: reads,
    headers: { authorization: `Bearer ${client.token}` },
    path: () => `/organizations/${ids[Math.floor(Math.random() * ids.length)]}/users`,
  });
  const [result, peak] = await Promise.all([run, sampleTenantConnections(client, run)]);
  const failures = result.non2xx + result.errors;
  return [
    {
      scenario: `4 many tenants (${ids.length} orgs)`,
      metric: `${reads} user reads: errors + non-2xx`,
      unit: 'count',
      service: failures,
      target: '0',
      met: failures === 0,
    },
    {
      scenario: `4 many tenants (${ids.length} orgs)`,
      metric: 'peak tenant connections',
      unit: 'conns',
      service: peak,
      target: `<= ${budget}`,
      met: peak <= budget,
    },
    {
      scenario: `4 many tenants (${ids.length} orgs)`,
      metric: 'p99 latency',
      unit: 'ms',
      service: result.p99Ms,
      target: '< 100 (goal)',
      met: result.p99Ms < 100,
    },
    { scenario: `4 many tenants (${ids.length} orgs)`, metric: 'throughput', unit: 'req/s', service: round(result.requestsPerSecond) },
  ];
}
