import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import { OrganizationArchives1732720000000 } from '../migrations/control/1732720000000-OrganizationArchives';
import { controlMigrationsUpTo } from './support/control-database';

/** A control database as it was just before soft delete: the migrations up to (not including) it, or with it. */
const controlDataSource = (database: string, upTo: 'before' | 'with') => controlMigrationsUpTo(database, OrganizationArchives1732720000000, upTo);

describe('Control migration: soft delete and archives', () => {
  const database = `orgms_test_archives_${randomUUID().slice(0, 8)}`;
  const ids = { deleting: randomUUID(), tombstone: randomUUID(), active: randomUUID() };
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });

  before(async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const ds = await controlDataSource(database, 'before').initialize();
    try {
      await ds.runMigrations();
      const insert = (id: string, name: string, status: string) =>
        ds.query(`INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email) VALUES ($1, $2, $3, $2, $4, $5, 'a@example.test')`, [
          id,
          name,
          name.toLowerCase(),
          `db_${id.slice(0, 8)}`,
          status,
        ]);
      await insert(ids.deleting, 'Going', 'deleting');
      await insert(ids.tombstone, 'Gone', 'deleted');
      await insert(ids.active, 'Here', 'active');
    } finally {
      await ds.destroy();
    }
  });

  after(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('when it runs, then an organization on its way to being dropped is purging (so it is archived first), an old tombstone is purged, and the others are unchanged', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.runMigrations();
      const rows: { id: string; status: string }[] = await ds.query('SELECT id, status FROM organizations');
      const statusOf = Object.fromEntries(rows.map((r) => [r.id, r.status]));
      expect(statusOf).to.deep.equal({ [ids.deleting]: 'purging', [ids.tombstone]: 'purged', [ids.active]: 'active' });
      const [index] = await ds.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'organizations_live_name_key_uq'`);
      expect(index.indexdef).to.match(/'deleted'.*'purging'.*'purged'/);
    } finally {
      await ds.destroy();
    }
  });

  it('when it is reverted, then purging and deleted organizations go back to deleting, purged ones to deleted', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.undoLastMigration();
      const rows: { id: string; status: string }[] = await ds.query('SELECT id, status FROM organizations');
      const statusOf = Object.fromEntries(rows.map((r) => [r.id, r.status]));
      expect(statusOf).to.deep.equal({ [ids.deleting]: 'deleting', [ids.tombstone]: 'deleted', [ids.active]: 'active' });
    } finally {
      await ds.destroy();
    }
  });
});
