import { organizationNameKey } from '@orgms/common/organizations/organization-names';
import { ORGANIZATION_COLUMNS } from '@orgms/common/organizations/organization-rows';
import { type OrganizationSearch, organizationSearchClauses } from '@orgms/common/organizations/organization-search';
import { Client } from 'pg';
import type { ServiceClient } from '../lib/service';
import { percentile, type ResultRow, round } from '../lib/stats';

const WORDS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'soylent'];

/** One search as the API takes it and as the store's statement (the floor) runs it. */
interface Search {
  metric: string;
  query: Record<string, string>;
  store: Omit<OrganizationSearch, 'limit'>;
}

/**
 * Scenario 11: finding one organization among `count` (issue 26). Seeds `count` purged
 * tombstones into the control table (rows only: purged ones hold no database and no capacity,
 * and no sweep touches them, so the other scenarios are not disturbed), then times each filter
 * and sort of GET /organizations (a page of 20, sequential requests) beside its floor: the
 * store's very statement run over one pg connection. The rows are removed afterwards.
 */
export async function organizationSearch(client: ServiceClient, count: number, requests: number): Promise<ResultRow[]> {
  const db = new Client({ connectionString: client.env.env.DATABASE_URL });
  await db.connect();
  const ids: string[] = [];
  try {
    const [{ id: serverId }] = (await db.query(`SELECT id FROM database_servers WHERE name = 'default'`)).rows;
    const names = Array.from({ length: count }, (_, i) => `${WORDS[i % WORDS.length]} ${Math.floor(i / WORDS.length)} Bench`);
    const inserted = await db.query(
      `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email, external_id, metadata, database_server_id, created_at)
       SELECT gen_random_uuid(), v.name, v.key, 'bench-' || v.i, 'bench_search_' || v.i, 'purged', 'owner@bench.test', 'cus_bench_' || v.i,
              jsonb_build_object('plan', 'bench'), $3, now() - v.i * interval '1 minute'
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(name, key, i)
       RETURNING id`,
      [names, names.map(organizationNameKey), serverId],
    );
    ids.push(...inserted.rows.map((row: { id: string }) => row.id));
    await db.query('ANALYZE organizations');

    const middle = new Date(Date.now() - (count / 2) * 60_000);
    const searches: Search[] = [
      { metric: 'newest first (no filter)', query: {}, store: { sort: '-created_at' } },
      { metric: 'name prefix, by name', query: { name: 'Umbrella 42', sort: 'name' }, store: { namePrefix: 'Umbrella 42', sort: 'name' } },
      { metric: 'database server', query: { database_server_id: serverId }, store: { databaseServerId: serverId, sort: '-created_at' } },
      {
        metric: 'creation window of 1 h',
        query: { created_after: new Date(middle.getTime() - 3600_000).toISOString(), created_before: middle.toISOString(), sort: 'created_at' },
        store: { createdAfter: new Date(middle.getTime() - 3600_000), createdBefore: middle, sort: 'created_at' },
      },
      {
        metric: 'external id',
        query: { external_id: `cus_bench_${Math.floor(count / 3)}` },
        store: { externalId: `cus_bench_${Math.floor(count / 3)}`, sort: '-created_at' },
      },
    ];
    const rows: ResultRow[] = [];
    for (const search of searches) {
      const path = `/organizations?${new URLSearchParams({ ...search.query, limit: '20' })}`;
      const { where, orderBy, limit, params } = organizationSearchClauses({ ...search.store, limit: 20 });
      const sql = `SELECT ${ORGANIZATION_COLUMNS}, name_key AS "nameKey" FROM organizations ${where} ${orderBy} ${limit}`;
      const service = await timed(requests, async () => {
        const res = await client.request('GET', path);
        if (res.status !== 200 || (res.body.items as unknown[]).length === 0)
          throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      });
      const floor = await timed(requests, () => db.query(sql, params));
      rows.push({
        scenario: `11 search among ${count}`,
        metric: `${search.metric}: p50 (p95 in note)`,
        unit: 'ms',
        service: round(percentile(service, 50), 2),
        floor: round(percentile(floor, 50), 2),
        note: `p95 ${round(percentile(service, 95), 2)} ms, floor ${round(percentile(floor, 95), 2)} ms`,
      });
    }
    return rows;
  } finally {
    await db.query('DELETE FROM organizations WHERE id = ANY($1)', [ids]);
    await db.end();
  }
}

/** Durations (ms) of `times` sequential runs of `work`, after a few to warm up. */
async function timed(times: number, work: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await work();
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await work();
    durations.push(performance.now() - started);
  }
  return durations;
}
