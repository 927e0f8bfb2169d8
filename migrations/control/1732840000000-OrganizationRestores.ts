import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * In-place restores: an organization may be `restoring` (its data replaced by a backup's), and
 * remembers which backup replaces its data and which backup (kind `pre_restore`) holds the data
 * it had, so a restore resumed after a crash carries on with the same two.
 */
export class OrganizationRestores1732840000000 implements MigrationInterface {
  name = 'OrganizationRestores1732840000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT organizations_status_check`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_status_check
         CHECK (status IN ('pending','provisioning','active','moving','restoring','failed','deleted','purging','purged'))`,
    );
    await q.query(`
      ALTER TABLE organizations
        ADD COLUMN restoring_backup_id uuid REFERENCES organization_dumps (id),
        ADD COLUMN pre_restore_backup_id uuid REFERENCES organization_dumps (id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations DROP COLUMN restoring_backup_id, DROP COLUMN pre_restore_backup_id`);
    // The old code knows no restore: one under way is given up, on whatever database holds the name.
    await q.query(`UPDATE organizations SET status = 'active' WHERE status = 'restoring'`);
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT organizations_status_check`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_status_check
         CHECK (status IN ('pending','provisioning','active','moving','failed','deleted','purging','purged'))`,
    );
  }
}
