import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Fleet migration runs and server drains were two copies of one thing, a tracked run over many
 * organizations: both move into `tracked_runs` + `tracked_run_items`, told apart by `kind`, each
 * kind with its own few columns (a migration's target version and template outcome, a drain's
 * server and each item's target server). Existing rows are copied; `down` copies them back.
 */
export class TrackedRuns1732795000000 implements MigrationInterface {
  name = 'TrackedRuns1732795000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracked_runs (
        id uuid PRIMARY KEY,
        kind varchar(20) NOT NULL CHECK (kind IN ('migration','drain')),
        status varchar(20) NOT NULL CHECK (status IN ('queued','running','completed')),
        request_id varchar(100),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz,
        target_version varchar(100),
        template_outcome varchar(200),
        server_id uuid REFERENCES database_servers (id),
        CHECK ((kind = 'migration') = (target_version IS NOT NULL)),
        CHECK ((kind = 'drain') = (server_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX tracked_runs_kind_created_idx ON tracked_runs (kind, created_at DESC, id DESC)`);
    await q.query(`
      CREATE TABLE tracked_run_items (
        run_id uuid NOT NULL REFERENCES tracked_runs (id) ON DELETE CASCADE,
        org_id uuid NOT NULL,
        status varchar(20) NOT NULL CHECK (status IN ('pending','succeeded','failed','skipped')),
        from_version varchar(100),
        target_server_id uuid REFERENCES database_servers (id),
        error text,
        finished_at timestamptz,
        PRIMARY KEY (run_id, org_id)
      )`);
    await q.query(`
      INSERT INTO tracked_runs (id, kind, status, request_id, created_at, started_at, finished_at, target_version, template_outcome)
      SELECT id, 'migration', status, request_id, created_at, started_at, finished_at, target_version, template_outcome FROM migration_runs`);
    await q.query(`
      INSERT INTO tracked_run_items (run_id, org_id, status, from_version, error, finished_at)
      SELECT run_id, org_id, status, from_version, error, finished_at FROM migration_run_items`);
    await q.query(`
      INSERT INTO tracked_runs (id, kind, status, request_id, created_at, started_at, finished_at, server_id)
      SELECT id, 'drain', status, request_id, created_at, started_at, finished_at, server_id FROM server_drains`);
    await q.query(`
      INSERT INTO tracked_run_items (run_id, org_id, status, target_server_id, error, finished_at)
      SELECT drain_id, org_id, status, target_server_id, error, finished_at FROM server_drain_items`);
    await q.query(`DROP TABLE server_drain_items, server_drains, migration_run_items, migration_runs`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE migration_runs (
        id uuid PRIMARY KEY,
        status varchar(20) NOT NULL CHECK (status IN ('queued','running','completed')),
        target_version varchar(100) NOT NULL,
        template_outcome varchar(200),
        request_id varchar(100),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await q.query(`CREATE INDEX migration_runs_created_idx ON migration_runs (created_at DESC)`);
    await q.query(`
      CREATE TABLE migration_run_items (
        run_id uuid NOT NULL REFERENCES migration_runs (id) ON DELETE CASCADE,
        org_id uuid NOT NULL,
        status varchar(20) NOT NULL CHECK (status IN ('pending','succeeded','failed','skipped')),
        from_version varchar(100),
        error text,
        finished_at timestamptz,
        PRIMARY KEY (run_id, org_id)
      )`);
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
    await q.query(`
      INSERT INTO migration_runs (id, status, target_version, template_outcome, request_id, created_at, started_at, finished_at)
      SELECT id, status, target_version, template_outcome, request_id, created_at, started_at, finished_at FROM tracked_runs WHERE kind = 'migration'`);
    await q.query(`
      INSERT INTO migration_run_items (run_id, org_id, status, from_version, error, finished_at)
      SELECT i.run_id, i.org_id, i.status, i.from_version, i.error, i.finished_at
        FROM tracked_run_items i JOIN tracked_runs r ON r.id = i.run_id WHERE r.kind = 'migration'`);
    await q.query(`
      INSERT INTO server_drains (id, server_id, status, request_id, created_at, started_at, finished_at)
      SELECT id, server_id, status, request_id, created_at, started_at, finished_at FROM tracked_runs WHERE kind = 'drain'`);
    await q.query(`
      INSERT INTO server_drain_items (drain_id, org_id, status, target_server_id, error, finished_at)
      SELECT i.run_id, i.org_id, i.status, i.target_server_id, i.error, i.finished_at
        FROM tracked_run_items i JOIN tracked_runs r ON r.id = i.run_id WHERE r.kind = 'drain'`);
    await q.query(`DROP TABLE tracked_run_items, tracked_runs`);
  }
}
