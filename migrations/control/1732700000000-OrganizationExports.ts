import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exports of an organization's database: one row per `pg_dump -Fc` asked for, with where it is
 * (`queued` → `running` → `ready` or `failed`; `expired` once its file is gone), its size and
 * SHA-256. The file itself lives in EXPORT_DIR under a name made of the two ids.
 */
export class OrganizationExports1732700000000 implements MigrationInterface {
  name = 'OrganizationExports1732700000000';

  async up(q: QueryRunner): Promise<void> {
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE organization_exports`);
  }
}
