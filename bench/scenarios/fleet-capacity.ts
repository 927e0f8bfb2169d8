import { quoteIdent, templateNameFor } from '@orgms/common/tenancy/database-names';
import type { Client } from 'pg';
import { controlQuery } from '../../harness/service-env';
import { type BenchServer, connect, serverQuery } from '../lib/fleet';
import { inPool, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

const MB = 1024 * 1024;

/** `pg_database_size` of one database on the server, in MB. */
async function sizeMb(server: BenchServer, database: string): Promise<number> {
  const [row] = await serverQuery<{ bytes: string }>(server.adminUrl, 'SELECT pg_database_size($1)::text AS bytes', [database]);
  return round(Number(row.bytes) / MB, 2);
}

/**
 * `count` `CREATE DATABASE … TEMPLATE <prefix>template` on the server, `concurrency` at a time,
 * each slot on its own connection (opened before the clock starts); returns databases per second.
 * The databases are dropped afterwards (not timed), also when a create fails.
 */
async function createRate(server: BenchServer, prefix: string, label: string, count: number, concurrency: number): Promise<{ perSecond: number; ms: number }> {
  const template = quoteIdent(templateNameFor(prefix));
  const names = Array.from({ length: count }, (_, i) => `${prefix}cap_${label}_${i}`);
  const slots: Client[] = await Promise.all(Array.from({ length: concurrency }, () => connect(server.adminUrl)));
  const free = [...slots];
  try {
    const started = performance.now();
    await inPool(names, concurrency, async (name) => {
      const pg = free.pop() as Client;
      try {
        await pg.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${template}`);
      } finally {
        free.push(pg);
      }
    });
    const ms = performance.now() - started;
    return { perSecond: round((count / ms) * 1000, 2), ms: round(ms) };
  } finally {
    for (const name of names) await slots[0].query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    await Promise.all(slots.map((pg) => pg.end()));
  }
}

/**
 * Scenario 6, per server of the fleet (5432 `default` and 5433 `pg-b` when it is up): the disk of
 * an empty organization database (`pg_database_size` of one freshly provisioned through the API
 * with `database_server`, and of `<prefix>template`), and the rate of `CREATE DATABASE … TEMPLATE`
 * over raw pg: `count` in sequence, then `count` at 2 and at 4 at once. The figures behind the
 * README capacity model. Every database it creates is dropped (the organization through
 * `DELETE /organizations/:id?purge=true`, the clones directly).
 */
export async function fleetCapacity(client: ServiceClient, servers: BenchServer[], count: number): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  for (const server of servers) {
    const scenario = `6 fleet capacity (${server.name})`;
    const id = await client.createOrganization(`Capacity ${server.name} ${client.env.id}`, server.name);
    await client.waitActive(id);
    const [{ database }] = await controlQuery<{ database: string }>(client.env, 'SELECT database_name AS database FROM organizations WHERE id = $1', [id]);
    const orgMb = await sizeMb(server, database);
    const templateMb = await sizeMb(server, templateNameFor(client.env.orgPrefix));
    const purged = await client.request('DELETE', `/organizations/${id}?purge=true`);
    if (purged.status !== 202) throw new Error(`DELETE /organizations/${id}?purge=true answered ${purged.status}`);
    await client.waitStatus(id, 'purged');

    const label = server.name.replace(/[^a-z0-9]/g, '');
    const sequential = await createRate(server, client.env.orgPrefix, `${label}_s`, count, 1);
    const two = await createRate(server, client.env.orgPrefix, `${label}_c2`, count, 2);
    const four = await createRate(server, client.env.orgPrefix, `${label}_c4`, count, 4);
    rows.push(
      { scenario, metric: 'disk of a freshly provisioned empty org database', unit: 'MB', service: orgMb },
      { scenario, metric: 'disk of <prefix>template', unit: 'MB', service: templateMb },
      {
        scenario,
        metric: `CREATE DATABASE TEMPLATE, ${count} in sequence`,
        unit: 'dbs/s',
        service: sequential.perSecond,
        note: `${count} in ${sequential.ms} ms`,
      },
      { scenario, metric: `CREATE DATABASE TEMPLATE, ${count} at 2 at once`, unit: 'dbs/s', service: two.perSecond, note: `${count} in ${two.ms} ms` },
      { scenario, metric: `CREATE DATABASE TEMPLATE, ${count} at 4 at once`, unit: 'dbs/s', service: four.perSecond, note: `${count} in ${four.ms} ms` },
    );
  }
  return rows;
}
