import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * At most one export per organization is `queued` or `running`, enforced by the database so two
 * racing requests cannot both be accepted. Organizations that already have several keep their
 * oldest; the others are marked failed with the reason (their jobs then find nothing to do).
 * The sum of the ready exports' sizes (the disk cap) is read through the existing
 * `organization_exports_expiry_idx` (status = 'ready').
 */
export class OneExportAtATime1732810000000 implements MigrationInterface {
  name = 'OneExportAtATime1732810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE organization_exports e
         SET status = 'failed', finished_at = now(),
             error = 'another export of this organization was asked for first; one export at a time'
        FROM (SELECT id, row_number() OVER (PARTITION BY org_id ORDER BY created_at, id) AS n
                FROM organization_exports WHERE status IN ('queued','running')) ranked
       WHERE e.id = ranked.id AND ranked.n > 1`);
    await q.query(`CREATE UNIQUE INDEX organization_exports_one_open_idx ON organization_exports (org_id) WHERE status IN ('queued','running')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX organization_exports_one_open_idx`);
  }
}
