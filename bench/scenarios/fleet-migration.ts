import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { tenantMigrations } from '@orgms/migrations';
import { Client } from 'pg';
import type { QueryRunner } from 'typeorm';
import { controlQuery } from '../../harness/service-env';
import { type BenchServer, DEFAULT_SERVER, onDatabase, serverOfOrganizations } from '../lib/fleet';
import { inPool, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

const latest = tenantMigrations[tenantMigrations.length - 1];
const previous = tenantMigrations[tenantMigrations.length - 2];

/** Runs `work` with a QueryRunner-shaped adapter over a raw pg client of one org database. */
async function onOrgDatabase(client: ServiceClient, orgId: string, server: BenchServer, work: (q: QueryRunner, pg: Client) => Promise<unknown>): Promise<void> {
  const pg = new Client({ connectionString: onDatabase(server.adminUrl, databaseNameFor(orgId, client.env.orgPrefix)) });
  await pg.connect();
  try {
    await work({ query: (sql: string, params?: unknown[]) => pg.query(sql, params).then((r) => r.rows) } as unknown as QueryRunner, pg);
  } finally {
    await pg.end();
  }
}

/** Puts every org one migration behind (the newest one undone), so it is "new" to them again. */
async function undoLatest(client: ServiceClient, ids: string[], placed: Map<string, BenchServer>): Promise<void> {
  await inPool(ids, 8, (id) =>
    onOrgDatabase(client, id, placed.get(id) ?? DEFAULT_SERVER, async (q, pg) => {
      await new latest().down(q);
      await pg.query('DELETE FROM tenant_migrations WHERE name = $1', [latest.name]);
    }),
  );
  await controlQuery(client.env, 'UPDATE organizations SET schema_version = $1 WHERE id = ANY($2)', [previous.name, ids]);
}

/**
 * Where the run's wall time went, from its own records: planning (template upgrades, the plan),
 * the organizations (from the plan to the last recorded outcome), and finishing (the parent's
 * last phase and the client's next poll are the rest of the wall time).
 */
async function runPhases(client: ServiceClient, runId: string): Promise<string> {
  const [row] = await controlQuery<{ planMs: number; organizationsMs: number }>(
    client.env,
    `SELECT (extract(epoch FROM r.started_at - r.created_at) * 1000)::int AS "planMs",
            (extract(epoch FROM max(i.finished_at) - r.started_at) * 1000)::int AS "organizationsMs"
       FROM tracked_runs r JOIN tracked_run_items i ON i.run_id = r.id WHERE r.id = $1 GROUP BY r.id`,
    [runId],
  );
  return `plan ${row.planMs} ms, organizations ${row.organizationsMs} ms`;
}

/** Scenario 5: the newest tenant migration over every org through a fleet run, vs the same DDL over raw pg at the same concurrency. */
export async function fleetMigration(
  client: ServiceClient,
  ids: string[],
  concurrency: number,
  servers: BenchServer[] = [DEFAULT_SERVER],
): Promise<ResultRow[]> {
  // The organizations may live on several servers (many tenants spreads them): reach each on its own.
  const placed = await serverOfOrganizations(client, ids, servers);
  await undoLatest(client, ids, placed);
  const started = performance.now();
  const run = await client.request('POST', '/migrations/runs');
  if (run.status !== 202) throw new Error(`POST /migrations/runs answered ${run.status}: ${JSON.stringify(run.body)}`);
  const finished = await client.waitMigrationRun(run.body.id as string);
  const serviceMs = performance.now() - started;
  if (finished.succeeded !== ids.length) throw new Error(`fleet run: ${JSON.stringify(finished)}`);
  const phases = await runPhases(client, run.body.id as string);

  await undoLatest(client, ids, placed);
  const floorStarted = performance.now();
  await inPool(ids, concurrency, (id) => onOrgDatabase(client, id, placed.get(id) ?? DEFAULT_SERVER, (q) => new latest().up(q)));
  const floorMs = performance.now() - floorStarted;

  const ratio = round(serviceMs / floorMs, 2);
  return [
    {
      scenario: `5 fleet migration (${ids.length} orgs, ${servers.length} server${servers.length > 1 ? 's' : ''})`,
      metric: 'wall time',
      unit: 'ms',
      service: round(serviceMs),
      floor: round(floorMs),
      ratio,
      target: '<= 1.5x',
      met: ratio <= 1.5,
      note: `concurrency ${concurrency}; ${phases}`,
    },
    {
      scenario: `5 fleet migration (${ids.length} orgs, ${servers.length} server${servers.length > 1 ? 's' : ''})`,
      metric: 'throughput',
      unit: 'orgs/s',
      service: round((ids.length / serviceMs) * 1000),
      floor: round((ids.length / floorMs) * 1000),
    },
  ];
}
