import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Finding one organization among many: an optional `external_id` (a billing or CRM system's
 * id, unique among organizations that are not purged, so a purged tombstone does not hold it
 * for ever) and a small `metadata` map of strings, and an index for each filter and sort of
 * GET /organizations. The name index compares in the "C" collation, the one the list's name
 * prefix (LIKE 'key%') and name sort use: byte order, so a prefix is a range of the index
 * whatever the database's default collation.
 */
export class OrganizationSearch1732850000000 implements MigrationInterface {
  name = 'OrganizationSearch1732850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE organizations
        ADD COLUMN external_id varchar(128),
        ADD COLUMN metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object')`);
    await q.query(`CREATE UNIQUE INDEX organizations_external_id_uq ON organizations (external_id) WHERE external_id IS NOT NULL AND status <> 'purged'`);
    // The unique index leaves purged organizations out, so the filter (which finds them too) has its own.
    await q.query(`CREATE INDEX organizations_external_id_idx ON organizations (external_id) WHERE external_id IS NOT NULL`);
    await q.query(`CREATE INDEX organizations_name_key_sort_idx ON organizations ((name_key COLLATE "C"), id)`);
    await q.query(`CREATE INDEX organizations_created_idx ON organizations (created_at, id)`);
    await q.query(`CREATE INDEX organizations_server_created_idx ON organizations (database_server_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX organizations_server_created_idx`);
    await q.query(`DROP INDEX organizations_created_idx`);
    await q.query(`DROP INDEX organizations_name_key_sort_idx`);
    await q.query(`DROP INDEX organizations_external_id_idx`);
    await q.query(`DROP INDEX organizations_external_id_uq`);
    await q.query(`ALTER TABLE organizations DROP COLUMN external_id, DROP COLUMN metadata`);
  }
}
