import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A third kind of tracked run: database limits set on every organization's role
 * (`database_limits`), with no column of its own. `down` removes those runs (their items go with
 * them) before the check is narrowed again.
 */
export class DatabaseLimitsRuns1732820000000 implements MigrationInterface {
  name = 'DatabaseLimitsRuns1732820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tracked_runs DROP CONSTRAINT tracked_runs_kind_check`);
    await q.query(`ALTER TABLE tracked_runs ADD CONSTRAINT tracked_runs_kind_check CHECK (kind IN ('migration','drain','database_limits'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM tracked_runs WHERE kind = 'database_limits'`);
    await q.query(`ALTER TABLE tracked_runs DROP CONSTRAINT tracked_runs_kind_check`);
    await q.query(`ALTER TABLE tracked_runs ADD CONSTRAINT tracked_runs_kind_check CHECK (kind IN ('migration','drain'))`);
  }
}
