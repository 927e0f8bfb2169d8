import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitControl1732200000000 implements MigrationInterface {
  name = 'InitControl1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE platform_admins (
        id uuid PRIMARY KEY,
        email varchar(254) NOT NULL,
        password_hash varchar(100) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX platform_admins_email_uq ON platform_admins (lower(email))`);
    await q.query(`
      CREATE TABLE organizations (
        id uuid PRIMARY KEY,
        name varchar(100) NOT NULL,
        slug varchar(120) NOT NULL,
        database_name varchar(63) NOT NULL UNIQUE,
        status varchar(20) NOT NULL CHECK (status IN ('pending','provisioning','active','failed','deleting','deleted')),
        step varchar(40),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        admin_email varchar(254) NOT NULL,
        pending_admin_password_hash varchar(100),
        schema_version varchar(100),
        -- millisecond precision: the list cursor carries created_at as a JavaScript Date
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Names are unique among live organizations only: a deleted one frees its name.
    await q.query(`CREATE UNIQUE INDEX organizations_live_name_uq ON organizations (lower(name)) WHERE status <> 'deleted'`);
    await q.query(`CREATE INDEX organizations_status_idx ON organizations (status, updated_at)`);
    await q.query(`
      CREATE TABLE organization_events (
        id bigserial PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT now(),
        from_status varchar(20),
        to_status varchar(20) NOT NULL,
        step varchar(40),
        detail text,
        request_id varchar(100)
      )`);
    await q.query(`CREATE INDEX organization_events_org_idx ON organization_events (org_id, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE organization_events`);
    await q.query(`DROP TABLE organizations`);
    await q.query(`DROP TABLE platform_admins`);
  }
}
