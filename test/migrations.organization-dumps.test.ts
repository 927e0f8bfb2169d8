import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import { OrganizationDumps1732830000000 } from '../migrations/control/1732830000000-OrganizationDumps';
import { controlMigrationsUpTo } from './support/control-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

/** A control database with the migrations before (or up to and with) the one dumps table. */
const controlDataSource = (database: string, upTo: 'before' | 'with') => controlMigrationsUpTo(database, OrganizationDumps1732830000000, upTo);

const SHA = 'a'.repeat(64);

describe('Control migration 1732830000000: exports and archives are one table of dumps', () => {
  const database = `orgms_test_dumps_${randomBytes(4).toString('hex')}`;
  const orgId = randomUUID();
  const restoredId = randomUUID();
  const ids = { export: randomUUID(), archive: randomUUID(), imported: randomUUID() };
  let server: Client;

  before(async () => {
    server = new Client({ connectionString: `${SERVER}/postgres` });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    const old = await controlDataSource(database, 'before').initialize();
    try {
      await old.runMigrations();
      const org = (id: string, name: string) =>
        old.query(
          `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email) VALUES ($1, $2::text, lower($2::text), lower($2::text), $3, 'active', 'a@example.test')`,
          [id, name, `db_${id.slice(0, 8)}`],
        );
      await org(orgId, 'Acme');
      await old.query(
        `INSERT INTO organization_exports (id, org_id, status, size_bytes, sha256, created_at, finished_at, expires_at)
         VALUES ($1, $2, 'ready', 10, $3, '2026-12-01T00:00:00Z', '2026-12-01T00:00:01Z', '2026-12-02T00:00:01Z')`,
        [ids.export, orgId, SHA],
      );
      const archive = (id: string, owner: string | null, fileName: string) =>
        old.query(
          `INSERT INTO organization_archives (id, org_id, database_name, file_name, status, size_bytes, sha256, verified_at) VALUES ($1, $2, 'db', $3, 'verified', 20, $4, now())`,
          [id, owner, fileName, SHA],
        );
      await archive(ids.archive, orgId, `${orgId}-20261201T000000000Z.dump`);
      await archive(ids.imported, null, 'brought-in.dump');
      await org(restoredId, 'Restored');
      await old.query(`UPDATE organizations SET restored_from_archive_id = $1 WHERE id = $2`, [ids.imported, restoredId]);
    } finally {
      await old.destroy();
    }
  });

  after(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  it('when it runs, then every export and archive is a dump of its kind with its columns, the old tables are gone, and a restored organization still names its archive', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.runMigrations();
      const rows = await ds.query(
        `SELECT id, org_id AS "orgId", kind, status, file_name AS "fileName", size_bytes::int AS "sizeBytes", expires_at IS NOT NULL AS "expires"
           FROM organization_dumps ORDER BY kind, id`,
      );
      // Within a kind, by id: the organization's id is random, so its file names sort either side of 'brought-in.dump'.
      const byKindAndId = (a: { kind: string; id: string }, b: { kind: string; id: string }) => a.kind.localeCompare(b.kind) || (a.id < b.id ? -1 : 1);
      expect(rows).to.deep.equal(
        [
          { id: ids.archive, orgId, kind: 'archive', status: 'verified', fileName: `${orgId}-20261201T000000000Z.dump`, sizeBytes: 20, expires: false },
          { id: ids.imported, orgId: null, kind: 'archive', status: 'verified', fileName: 'brought-in.dump', sizeBytes: 20, expires: false },
          { id: ids.export, orgId, kind: 'export', status: 'ready', fileName: `${orgId}-${ids.export}.dump`, sizeBytes: 10, expires: true },
        ].sort(byKindAndId),
      );
      const tables = await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_name IN ('organization_exports','organization_archives')`);
      expect(tables).to.deep.equal([]);
      const refused = await ds.query(`UPDATE organizations SET restored_from_archive_id = $1 WHERE id = $2`, [randomUUID(), restoredId]).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(refused, 'the reference follows the archives into organization_dumps').to.equal('23503');
    } finally {
      await ds.destroy();
    }
  });

  it('when an organization already has an export queued, then a second one is refused, while a backup may be queued beside it', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      const open = (kind: string, backupKind: string | null) =>
        ds.query(`INSERT INTO organization_dumps (id, org_id, kind, backup_kind, status) VALUES ($1, $2, $3, $4, 'queued')`, [
          randomUUID(),
          orgId,
          kind,
          backupKind,
        ]);
      await open('export', null);
      await open('backup', 'manual');
      const second = await open('export', null).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(second).to.equal('23505');
      await ds.query(`DELETE FROM organization_dumps WHERE status = 'queued'`);
    } finally {
      await ds.destroy();
    }
  });

  it('when it is reverted, then exports and archives are back in their tables as they were', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.undoLastMigration();
      const exports = await ds.query(`SELECT id, status, size_bytes::int AS "sizeBytes" FROM organization_exports`);
      expect(exports).to.deep.equal([{ id: ids.export, status: 'ready', sizeBytes: 10 }]);
      const archives = await ds.query(`SELECT id FROM organization_archives ORDER BY id`);
      expect(archives.map((row: { id: string }) => row.id)).to.deep.equal([ids.archive, ids.imported].sort());
      const [restored] = await ds.query(`SELECT restored_from_archive_id AS id FROM organizations WHERE id = $1`, [restoredId]);
      expect(restored.id).to.equal(ids.imported);
      const [dumps] = await ds.query(`SELECT to_regclass('organization_dumps') AS t`);
      expect(dumps.t).to.equal(null);
    } finally {
      await ds.destroy();
    }
  });
});
