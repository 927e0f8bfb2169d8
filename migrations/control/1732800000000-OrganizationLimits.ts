import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-organization limits: what a platform admin overrode (null = the configured default) and the
 * quota sweep's last sample of the organization's usage. One row per organization that has either;
 * organizations without a row have the defaults and no sample yet.
 */
export class OrganizationLimits1732800000000 implements MigrationInterface {
  name = 'OrganizationLimits1732800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE organization_limits (
        org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
        reads_per_window integer CHECK (reads_per_window > 0),
        writes_per_window integer CHECK (writes_per_window > 0),
        expensive_per_window integer CHECK (expensive_per_window > 0),
        db_connection_limit integer CHECK (db_connection_limit > 0),
        db_statement_timeout_ms integer CHECK (db_statement_timeout_ms >= 0),
        db_idle_in_transaction_timeout_ms integer CHECK (db_idle_in_transaction_timeout_ms >= 0),
        db_temp_file_limit_kb bigint CHECK (db_temp_file_limit_kb >= -1),
        quota_users integer CHECK (quota_users > 0),
        quota_database_bytes bigint CHECK (quota_database_bytes > 0),
        database_bytes bigint,
        database_bytes_sampled_at timestamptz,
        over_quota_since timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // The quota gauge and the sweep read the organizations over quota.
    await q.query(`CREATE INDEX organization_limits_over_quota_idx ON organization_limits (org_id) WHERE over_quota_since IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE organization_limits`);
  }
}
