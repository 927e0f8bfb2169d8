import { randomBytes, randomUUID } from 'node:crypto';
import { type OrganizationSearch, organizationSearchClauses } from '@orgms/common/organizations/organization-search';
import { expect } from 'chai';
import { Client } from 'pg';
import { OrganizationSearch1732850000000 } from '../migrations/control/1732850000000-OrganizationSearch';
import { controlMigrationsUpTo } from './support/control-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

type Queryable = { query: (sql: string, params?: unknown[]) => Promise<unknown> };

/** An organization row as old or new code writes it, with an external id when given. */
function insertOrganization(db: Queryable, id: string, status: string, externalId: string | null = null): Promise<unknown> {
  return db.query(
    `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email${externalId ? ', external_id' : ''})
     VALUES ($1, $2::text, $2::text, $2::text, $3, $4, 'a@example.test'${externalId ? ', $5' : ''})`,
    [id, `org ${id}`, `db_${id.replaceAll('-', '')}`, status, ...(externalId ? [externalId] : [])],
  );
}

describe('Control migration 1732850000000: external ids, metadata and an index per organization filter', () => {
  const database = `orgms_test_orgsearch_${randomBytes(4).toString('hex')}`;
  const existing = randomUUID();
  const dataSource = (upTo: 'before' | 'with') => controlMigrationsUpTo(database, OrganizationSearch1732850000000, upTo);
  let server: Client;

  before(async () => {
    server = new Client({ connectionString: `${SERVER}/postgres` });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    const old = await dataSource('before').initialize();
    try {
      await old.runMigrations();
      await insertOrganization(old, existing, 'active');
    } finally {
      await old.destroy();
    }
  });

  after(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  it('when the list filters or sorts by each key, then its plan reads the index made for it (sequential scans off, as on a large table)', async () => {
    const ds = await dataSource('with').initialize();
    const runner = ds.createQueryRunner();
    try {
      await ds.runMigrations();
      // Enough rows with statistics that each filter's own index is the cheapest way (as on a fleet's table).
      await runner.query(`INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email, external_id, created_at)
        SELECT gen_random_uuid(), 'Org ' || i, 'org ' || i, 'org-' || i, 'db_plan_' || i, 'active', 'a@example.test', 'ext-' || i,
               now() - i * interval '1 minute'
          FROM generate_series(1, 5000) i`);
      await runner.query('ANALYZE organizations');
      await runner.query('SET enable_seqscan = off');
      const plans: Record<string, Partial<OrganizationSearch>> = {
        organizations_name_key_sort_idx: { namePrefix: 'Acme', sort: 'name' },
        organizations_created_idx: { createdAfter: new Date('2026-01-01T00:00:00Z'), sort: '-created_at' },
        organizations_server_created_idx: { databaseServerId: randomUUID(), sort: 'created_at' },
        organizations_external_id_idx: { externalId: 'cus_1', sort: 'name' },
      };
      // The name sort's next page starts inside the index too.
      const nextNamePage: Partial<OrganizationSearch> = { sort: '-name', after: { key: 'acme', id: randomUUID() } };
      for (const [index, search] of [...Object.entries(plans), ['organizations_name_key_sort_idx', nextNamePage] as const]) {
        const { where, orderBy, limit, params } = organizationSearchClauses({ limit: 20, sort: '-created_at', ...search });
        const [{ 'QUERY PLAN': plan }] = await runner.query(`EXPLAIN (FORMAT JSON) SELECT id FROM organizations ${where} ${orderBy} ${limit}`, params);
        expect(JSON.stringify(plan), JSON.stringify(search)).to.contain(`"Index Name":"${index}"`);
      }
    } finally {
      await runner.release();
      await ds.destroy();
    }
  });

  it('when it runs, then existing organizations have no external id and empty metadata, an external id is unique among organizations not purged, and down removes both columns', async () => {
    const ds = await dataSource('with').initialize();
    try {
      await ds.runMigrations();
      expect(await ds.query('SELECT external_id, metadata FROM organizations WHERE id = $1', [existing])).to.deep.equal([{ external_id: null, metadata: {} }]);
      await insertOrganization(ds, randomUUID(), 'purged', 'cus_1');
      await insertOrganization(ds, randomUUID(), 'active', 'cus_1'); // a purged tombstone does not hold it
      const again = await insertOrganization(ds, randomUUID(), 'deleted', 'cus_1').catch((error: unknown) => error);
      expect(again).to.include({ code: '23505', constraint: 'organizations_external_id_uq' });
      const notAMap = await ds.query(`UPDATE organizations SET metadata = '[]' WHERE id = $1`, [existing]).catch((error: unknown) => error);
      expect(notAMap).to.include({ code: '23514' });

      await ds.undoLastMigration();
      const columns = await ds.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'organizations' AND column_name IN ('external_id', 'metadata')`,
      );
      expect(columns).to.deep.equal([]);
    } finally {
      await ds.destroy();
    }
  });
});
