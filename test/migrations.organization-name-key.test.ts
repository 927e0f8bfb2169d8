import { randomBytes, randomUUID } from 'node:crypto';
import { organizationNameKey } from '@orgms/common/organizations/organization-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { OrganizationNameKey1732500000000 } from '../migrations/control/1732500000000-OrganizationNameKey';
import { controlMigrationsUpTo } from './support/control-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

/** A control database as it was just before the name key: the migrations up to (not including) it. */
const controlDataSource = (database: string, upTo: 'before' | 'with') => controlMigrationsUpTo(database, OrganizationNameKey1732500000000, upTo);

describe('Control migration 1732500000000: organizations.name_key', () => {
  const database = `orgms_test_namekey_${randomBytes(4).toString('hex')}`;
  const ids = { acme: randomUUID(), mixed: randomUUID(), fullWidth: randomUUID(), deleted: randomUUID(), cafe: randomUUID() };
  let server: Client;

  before(async () => {
    server = new Client({ connectionString: `${SERVER}/postgres` });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    const old = await controlDataSource(database, 'before').initialize();
    try {
      await old.runMigrations();
      // Rows the old lower(name) index let in: look-alikes of "Acme" side by side.
      const insert = (id: string, name: string, status: string, createdAt: string) =>
        old.query(
          `INSERT INTO organizations (id, name, slug, database_name, status, admin_email, created_at) VALUES ($1, $2, 'slug', $3, $4, 'a@example.test', $5)`,
          [id, name, `db_${id.replaceAll('-', '')}`, status, createdAt],
        );
      await insert(ids.acme, 'Acme', 'active', '2026-01-01T00:00:00Z');
      await insert(ids.mixed, '\u0410cme', 'active', '2026-01-02T00:00:00Z');
      await insert(ids.fullWidth, '\uff21\uff43\uff4d\uff45', 'failed', '2026-01-03T00:00:00Z');
      await insert(ids.deleted, 'ACME', 'deleted', '2026-01-04T00:00:00Z');
      await insert(ids.cafe, 'Cafe\u0301', 'active', '2026-01-05T00:00:00Z');
    } finally {
      await old.destroy();
    }
  });

  after(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  it('when it runs over look-alike names, then every row gets a key, the oldest live one keeps the real key, the younger ones a key no name can have and an event, and the unique index moves to name_key', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.runMigrations();
      const rows: { id: string; name_key: string }[] = await ds.query('SELECT id, name_key FROM organizations');
      const keyOf = Object.fromEntries(rows.map((r) => [r.id, r.name_key]));
      const acmeKey = organizationNameKey('Acme');
      expect(keyOf[ids.acme]).to.equal(acmeKey);
      expect(keyOf[ids.deleted], 'a deleted row takes no part in uniqueness').to.equal(acmeKey);
      expect(keyOf[ids.cafe]).to.equal(organizationNameKey('Caf\u00e9'));
      for (const id of [ids.mixed, ids.fullWidth]) {
        expect(keyOf[id]).to.equal(`${acmeKey}\uffff${id}`);
        const events = await ds.query('SELECT from_status, to_status, step, detail FROM organization_events WHERE org_id = $1', [id]);
        expect(events).to.have.length(1);
        expect(events[0].detail).to.equal(`name looks like the name of organization ${ids.acme}: rename it to log in by name again`);
        expect(events[0].from_status).to.equal(events[0].to_status);
      }

      const [column] = await ds.query(
        `SELECT is_nullable, data_type FROM information_schema.columns WHERE table_name = 'organizations' AND column_name = 'name_key'`,
      );
      expect(column).to.deep.equal({ is_nullable: 'NO', data_type: 'text' });
      const indexes: { indexname: string; indexdef: string }[] = await ds.query(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'organizations'`);
      const names = indexes.map((i) => i.indexname);
      expect(names).to.include('organizations_live_name_key_uq').and.not.include('organizations_live_name_uq');
      expect(indexes.find((i) => i.indexname === 'organizations_live_name_key_uq')?.indexdef).to.match(
        /UNIQUE .*\(name_key\) WHERE \(\(status\)::text <> 'deleted'::text\)/,
      );

      // The index now refuses a look-alike of a live name.
      let code: string | undefined;
      await ds
        .query(
          `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email) VALUES ($1, 'ACME', $2, 'acme', 'db_new', 'pending', 'b@example.test')`,
          [randomUUID(), acmeKey],
        )
        .catch((error: { code?: string }) => {
          code = error.code;
        });
      expect(code).to.equal('23505');
    } finally {
      await ds.destroy();
    }
  });

  it('when it is reverted, then name_key is gone and the lower(name) index among live organizations is back', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.undoLastMigration();
      const [column] = await ds.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'organizations' AND column_name = 'name_key'`);
      expect(column).to.equal(undefined);
      const [index] = await ds.query(`SELECT indexdef FROM pg_indexes WHERE tablename = 'organizations' AND indexname = 'organizations_live_name_uq'`);
      expect(index.indexdef).to.match(/UNIQUE .*\(lower\(\(name\)::text\)\) WHERE \(\(status\)::text <> 'deleted'::text\)/);
    } finally {
      await ds.destroy();
    }
  });
});
