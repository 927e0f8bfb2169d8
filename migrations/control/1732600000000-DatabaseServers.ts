import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The server fleet: every organization database lives on one registered PostgreSQL server.
 * Existing organizations are assigned to the `default` server when the service first starts
 * with this migration (it knows ORG_DATABASE_URL; a migration must not). `moving` joins the
 * statuses; a move names its target while it runs, and drains of a server are tracked runs.
 */
export class DatabaseServers1732600000000 implements MigrationInterface {
  name = 'DatabaseServers1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE database_servers (
        id uuid PRIMARY KEY,
        name varchar(63) NOT NULL UNIQUE,
        admin_url_secret text NOT NULL,
        pool_url_secret text,
        capacity integer NOT NULL CHECK (capacity >= 0),
        connection_budget integer NOT NULL CHECK (connection_budget >= 1),
        status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active','draining','disabled')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`ALTER TABLE organizations DROP CONSTRAINT IF EXISTS organizations_status_check`);
    await q.query(`
      ALTER TABLE organizations
        ADD CONSTRAINT organizations_status_check CHECK (status IN ('pending','provisioning','active','moving','failed','deleting','deleted')),
        ADD COLUMN database_server_id uuid REFERENCES database_servers (id),
        ADD COLUMN moving_to_server_id uuid REFERENCES database_servers (id)`);
    await q.query(`CREATE INDEX organizations_server_idx ON organizations (database_server_id) WHERE status <> 'deleted'`);
    await q.query(`
      CREATE TABLE server_drains (
        id uuid PRIMARY KEY,
        server_id uuid NOT NULL REFERENCES database_servers (id),
        status varchar(20) NOT NULL CHECK (status IN ('queued','running','completed')),
        request_id varchar(100),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE server_drain_items (
        drain_id uuid NOT NULL REFERENCES server_drains (id) ON DELETE CASCADE,
        org_id uuid NOT NULL,
        status varchar(20) NOT NULL CHECK (status IN ('pending','succeeded','failed','skipped')),
        target_server_id uuid REFERENCES database_servers (id),
        error text,
        finished_at timestamptz,
        PRIMARY KEY (drain_id, org_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE server_drain_items`);
    await q.query(`DROP TABLE server_drains`);
    await q.query(`UPDATE organizations SET status = 'active' WHERE status = 'moving'`);
    await q.query(`ALTER TABLE organizations DROP COLUMN database_server_id, DROP COLUMN moving_to_server_id, DROP CONSTRAINT organizations_status_check`);
    await q.query(
      `ALTER TABLE organizations ADD CONSTRAINT organizations_status_check CHECK (status IN ('pending','provisioning','active','failed','deleting','deleted'))`,
    );
    await q.query(`DROP TABLE database_servers`);
  }
}
