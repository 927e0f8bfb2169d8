import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports, purge archives and backups are one kind of thing, a verified `pg_dump -Fc` of an
 * organization's database: one table, `organization_dumps`, told apart by `kind` (and, for a
 * backup, `backup_kind`: scheduled, manual or pre_restore). It holds the union of the two old
 * tables' columns, plus the manifest (per-table row counts taken in the dump's own snapshot) and
 * when a restore drill last proved the file. Export rows keep their statuses (`ready`), archive
 * rows theirs (`written`, `verified`); backups go `queued` → `running` → `verified` or `failed`,
 * `expired` once their file is deleted. Down puts exports and archives back where they were;
 * backup rows have no older table to go to and are dropped (their files stay in BACKUP_DIR).
 */
export class OrganizationDumps1732830000000 implements MigrationInterface {
  name = 'OrganizationDumps1732830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_dumps (
        id uuid PRIMARY KEY,
        org_id uuid REFERENCES organizations (id),
        kind varchar(20) NOT NULL CHECK (kind IN ('export','archive','backup')),
        backup_kind varchar(20) CHECK (backup_kind IN ('scheduled','manual','pre_restore')),
        status varchar(20) NOT NULL CHECK (status IN ('queued','running','written','ready','verified','failed','expired')),
        database_name varchar(63),
        file_name varchar(200),
        size_bytes bigint CHECK (size_bytes >= 0),
        sha256 char(64),
        manifest jsonb,
        error text,
        request_id varchar(200),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        verified_at timestamptz(3),
        expires_at timestamptz(3),
        restore_tested_at timestamptz(3),
        CONSTRAINT organization_dumps_backup_has_kind CHECK ((kind = 'backup') = (backup_kind IS NOT NULL)),
        CONSTRAINT organization_dumps_has_organization CHECK (kind = 'archive' OR org_id IS NOT NULL)
      )`);
    await q.query(`CREATE INDEX organization_dumps_org_idx ON organization_dumps (org_id, kind, created_at DESC)`);
    await q.query(`CREATE INDEX organization_dumps_expiry_idx ON organization_dumps (expires_at) WHERE status IN ('ready','verified')`);
    await q.query(`CREATE INDEX organization_dumps_sha_idx ON organization_dumps (sha256) WHERE kind = 'archive'`);
    await q.query(`CREATE UNIQUE INDEX organization_dumps_file_idx ON organization_dumps (kind, file_name)`);
    await q.query(`CREATE UNIQUE INDEX organization_dumps_one_open_idx ON organization_dumps (org_id, kind) WHERE status IN ('queued','running')`);
    await q.query(`
      INSERT INTO organization_dumps (id, org_id, kind, status, file_name, size_bytes, sha256, error, request_id, created_at, started_at, finished_at, expires_at)
      SELECT id, org_id, 'export', status, org_id || '-' || id || '.dump', size_bytes, sha256, error, request_id, created_at, started_at, finished_at, expires_at
        FROM organization_exports`);
    await q.query(`
      INSERT INTO organization_dumps (id, org_id, kind, status, database_name, file_name, size_bytes, sha256, request_id, created_at, verified_at)
      SELECT id, org_id, 'archive', status, database_name, file_name, size_bytes, sha256, request_id, created_at, verified_at
        FROM organization_archives`);
    await this.pointRestoredFromArchiveAt(q, 'organization_dumps');
    await q.query(`DROP TABLE organization_exports`);
    await q.query(`DROP TABLE organization_archives`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_exports (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations (id),
        status varchar(20) NOT NULL CHECK (status IN ('queued','running','ready','failed','expired')),
        size_bytes bigint CHECK (size_bytes >= 0),
        sha256 char(64),
        error text,
        request_id varchar(200),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        expires_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX organization_exports_org_idx ON organization_exports (org_id, created_at DESC)`);
    await q.query(`CREATE INDEX organization_exports_expiry_idx ON organization_exports (expires_at) WHERE status = 'ready'`);
    await q.query(`CREATE UNIQUE INDEX organization_exports_one_open_idx ON organization_exports (org_id) WHERE status IN ('queued','running')`);
    await q.query(`
      CREATE TABLE organization_archives (
        id uuid PRIMARY KEY,
        org_id uuid REFERENCES organizations (id),
        database_name varchar(63) NOT NULL,
        file_name varchar(200) NOT NULL UNIQUE,
        status varchar(20) NOT NULL CHECK (status IN ('written','verified')),
        size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
        sha256 char(64) NOT NULL,
        request_id varchar(200),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        verified_at timestamptz(3)
      )`);
    await q.query(`CREATE INDEX organization_archives_org_idx ON organization_archives (org_id, created_at DESC)`);
    await q.query(`CREATE INDEX organization_archives_sha_idx ON organization_archives (sha256)`);
    await q.query(`
      INSERT INTO organization_exports (id, org_id, status, size_bytes, sha256, error, request_id, created_at, started_at, finished_at, expires_at)
      SELECT id, org_id, status, size_bytes, sha256, error, request_id, created_at, started_at, finished_at, expires_at
        FROM organization_dumps WHERE kind = 'export'`);
    await q.query(`
      INSERT INTO organization_archives (id, org_id, database_name, file_name, status, size_bytes, sha256, request_id, created_at, verified_at)
      SELECT id, org_id, database_name, file_name, status, size_bytes, sha256, request_id, created_at, verified_at
        FROM organization_dumps WHERE kind = 'archive'`);
    await this.pointRestoredFromArchiveAt(q, 'organization_archives');
    await q.query(`DROP TABLE organization_dumps`);
  }

  /** A restored organization names the archive it came from; the reference follows the table archives live in. */
  private async pointRestoredFromArchiveAt(q: QueryRunner, table: string): Promise<void> {
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT organizations_restored_from_archive_id_fkey`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_restored_from_archive_id_fkey FOREIGN KEY (restored_from_archive_id) REFERENCES ${table} (id)`,
    );
  }
}
