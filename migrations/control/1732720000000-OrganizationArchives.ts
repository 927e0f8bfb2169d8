import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Soft delete with a grace period, and archives. `deleted` now keeps the database (until
 * `purge_after`); `purging` archives it and drops it only once the archive is verified; `purged`
 * is the tombstone. `deleting` is gone: an organization that was on its way to being dropped is
 * `purging` (so it is archived first), and a `deleted` tombstone of before (database already
 * dropped) is `purged`. Names are free again from `deleted` on, as they were from `deleted` before.
 */
export class OrganizationArchives1732720000000 implements MigrationInterface {
  name = 'OrganizationArchives1732720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT organizations_status_check`);
    await q.query(`UPDATE organizations SET status = 'purged' WHERE status = 'deleted'`);
    await q.query(`UPDATE organizations SET status = 'purging' WHERE status = 'deleting'`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_status_check
         CHECK (status IN ('pending','provisioning','active','moving','failed','deleted','purging','purged'))`,
    );
    await q.query(`
      ALTER TABLE organizations
        ADD COLUMN deleted_at timestamptz(3),
        ADD COLUMN deleted_from varchar(20),
        ADD COLUMN purge_after timestamptz(3)`);
    await q.query(`DROP INDEX organizations_live_name_key_uq`);
    await q.query(`CREATE UNIQUE INDEX organizations_live_name_key_uq ON organizations (name_key) WHERE status NOT IN ('deleted','purging','purged')`);
    await q.query(`DROP INDEX organizations_server_idx`);
    await q.query(`CREATE INDEX organizations_server_idx ON organizations (database_server_id) WHERE status <> 'purged'`);
    await q.query(`CREATE INDEX organizations_purge_due_idx ON organizations (purge_after) WHERE status = 'deleted'`);
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
    // A restored organization remembers the archive it came from: provisioning restores it instead of cloning the template.
    await q.query(`ALTER TABLE organizations ADD COLUMN restored_from_archive_id uuid REFERENCES organization_archives (id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations DROP COLUMN restored_from_archive_id`);
    await q.query(`DROP TABLE organization_archives`);
    await q.query(`DROP INDEX organizations_purge_due_idx`);
    await q.query(`DROP INDEX organizations_server_idx`);
    await q.query(`CREATE INDEX organizations_server_idx ON organizations (database_server_id) WHERE status <> 'deleted'`);
    await q.query(`DROP INDEX organizations_live_name_key_uq`);
    await q.query(`ALTER TABLE organizations DROP COLUMN deleted_at, DROP COLUMN deleted_from, DROP COLUMN purge_after`);
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT organizations_status_check`);
    // The old code has no grace period: kept databases go back to `deleting`, which its worker drops (without an archive).
    await q.query(`UPDATE organizations SET status = 'deleting' WHERE status IN ('deleted','purging')`);
    await q.query(`UPDATE organizations SET status = 'deleted' WHERE status = 'purged'`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_status_check
         CHECK (status IN ('pending','provisioning','active','moving','failed','deleting','deleted'))`,
    );
    await q.query(`CREATE UNIQUE INDEX organizations_live_name_key_uq ON organizations (name_key) WHERE status <> 'deleted'`);
  }
}
