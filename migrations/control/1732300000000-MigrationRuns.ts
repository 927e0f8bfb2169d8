import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Fleet migration runs: one row per run, one item per organization it covers. */
export class MigrationRuns1732300000000 implements MigrationInterface {
  name = 'MigrationRuns1732300000000';

  async up(q: QueryRunner): Promise<void> {
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE migration_run_items`);
    await q.query(`DROP TABLE migration_runs`);
  }
}
