import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import { OneExportAtATime1732810000000 } from '../migrations/control/1732810000000-OneExportAtATime';
import { controlMigrationsUpTo } from './support/control-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

/** A control database with the migrations before (or up to and with) the one-export index. */
const controlDataSource = (database: string, upTo: 'before' | 'with') => controlMigrationsUpTo(database, OneExportAtATime1732810000000, upTo);

describe('Control migration 1732810000000: one export at a time per organization', () => {
  const database = `orgms_test_oneexport_${randomBytes(4).toString('hex')}`;
  const orgId = randomUUID();
  const exports = { oldest: randomUUID(), younger: randomUUID(), running: randomUUID(), ready: randomUUID() };
  let server: Client;

  before(async () => {
    server = new Client({ connectionString: `${SERVER}/postgres` });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    const old = await controlDataSource(database, 'before').initialize();
    try {
      await old.runMigrations();
      await old.query(
        `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email) VALUES ($1, 'Acme', 'acme', 'acme', $2, 'active', 'a@example.test')`,
        [orgId, `db_${orgId.replaceAll('-', '')}`],
      );
      // What the old code let in: several open exports of one organization.
      const insert = (id: string, status: string, createdAt: string) =>
        old.query(`INSERT INTO organization_exports (id, org_id, status, created_at) VALUES ($1, $2, $3, $4)`, [id, orgId, status, createdAt]);
      await insert(exports.oldest, 'queued', '2026-01-01T00:00:00Z');
      await insert(exports.younger, 'queued', '2026-01-02T00:00:00Z');
      await insert(exports.running, 'running', '2026-01-03T00:00:00Z');
      await insert(exports.ready, 'ready', '2026-01-04T00:00:00Z');
    } finally {
      await old.destroy();
    }
  });

  after(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  it('when an organization has several open exports, then the oldest stays open, the others fail with the reason, a second open export is refused, and down removes the index', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.runMigrations();
      const rows: { id: string; status: string; error: string | null }[] = await ds.query('SELECT id, status, error FROM organization_exports');
      const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
      expect(byId[exports.oldest].status).to.equal('queued');
      expect(byId[exports.ready].status).to.equal('ready');
      for (const id of [exports.younger, exports.running]) {
        expect(byId[id].status).to.equal('failed');
        expect(byId[id].error).to.match(/one export at a time/);
      }
      const second = await ds
        .query(`INSERT INTO organization_exports (id, org_id, status) VALUES ($1, $2, 'running')`, [randomUUID(), orgId])
        .catch((error: { code?: string }) => error);
      expect((second as { code?: string }).code).to.equal('23505');

      await ds.undoLastMigration();
      await ds.query(`INSERT INTO organization_exports (id, org_id, status) VALUES ($1, $2, 'running')`, [randomUUID(), orgId]);
    } finally {
      await ds.destroy();
    }
  });
});
