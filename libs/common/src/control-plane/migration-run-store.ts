import { randomUUID } from 'node:crypto';
import { latestTenantMigration } from '@orgms/migrations';
import type { DataSource } from 'typeorm';
import { NotFoundError } from '../errors';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';

export type MigrationRunStatus = 'queued' | 'running' | 'completed';
export type MigrationItemStatus = 'pending' | 'succeeded' | 'failed' | 'skipped';

export interface MigrationRunSummary {
  id: string;
  status: MigrationRunStatus;
  targetVersion: string;
  templateOutcome: string | null;
  requestId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  totals: Record<MigrationItemStatus | 'total', number>;
}

export interface MigrationRun extends MigrationRunSummary {
  failures: { orgId: string; error: string | null; finishedAt: Date | null }[];
}

const SUMMARY = `
  SELECT r.id, r.status, r.target_version AS "targetVersion", r.template_outcome AS "templateOutcome",
         r.request_id AS "requestId", r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt",
         count(i.org_id)::int AS total,
         (count(*) FILTER (WHERE i.status = 'pending'))::int AS pending,
         (count(*) FILTER (WHERE i.status = 'succeeded'))::int AS succeeded,
         (count(*) FILTER (WHERE i.status = 'failed'))::int AS failed,
         (count(*) FILTER (WHERE i.status = 'skipped'))::int AS skipped
    FROM migration_runs r LEFT JOIN migration_run_items i ON i.run_id = r.id`;

type SummaryRow = Omit<MigrationRunSummary, 'totals'> & Record<MigrationItemStatus | 'total', number>;

function toSummary(row: SummaryRow): MigrationRunSummary {
  const { total, pending, succeeded, failed, skipped, ...run } = row;
  return { ...run, totals: { total, pending, succeeded, failed, skipped } };
}

/**
 * The one owner of `migration_runs` and `migration_run_items` (fleet migrations). Every write is
 * idempotent (insert-if-absent, first terminal outcome wins), because the jobs that make them
 * may run more than once.
 */
export class MigrationRunStore {
  constructor(private readonly dataSource: DataSource) {}

  async create(requestId: string): Promise<string> {
    const id = randomUUID();
    await this.dataSource.query(`INSERT INTO migration_runs (id, status, target_version, request_id) VALUES ($1, 'queued', $2, $3)`, [
      id,
      latestTenantMigration,
      requestId,
    ]);
    return id;
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM migration_runs WHERE id = $1`, [id]);
  }

  /**
   * Records the run's plan over `organizations` (the active ones, from OrganizationStore): each
   * gets an item, `skipped` when already at the target and not waiting for its own database
   * role (no connection to its database needed), otherwise `pending`. Returns the pending ones,
   * read back so a re-run of the planner after a crash returns the same set.
   */
  async plan(id: string, templateOutcome: string, organizations: { id: string; schemaVersion: string | null; needsRole: boolean }[]): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO migration_run_items (run_id, org_id, status, from_version, finished_at)
         SELECT $1, o.id, CASE WHEN o.schema_version = r.target_version AND NOT o.needs_role THEN 'skipped' ELSE 'pending' END, o.schema_version,
                CASE WHEN o.schema_version = r.target_version AND NOT o.needs_role THEN now() END
           FROM unnest($2::uuid[], $3::varchar[], $4::boolean[]) AS o(id, schema_version, needs_role), migration_runs r
          WHERE r.id = $1
         ON CONFLICT (run_id, org_id) DO NOTHING`,
        [id, organizations.map((o) => o.id), organizations.map((o) => o.schemaVersion), organizations.map((o) => o.needsRole)],
      );
      await manager.query(
        `UPDATE migration_runs SET status = 'running', template_outcome = $2, started_at = coalesce(started_at, now()) WHERE id = $1 AND status = 'queued'`,
        [id, templateOutcome],
      );
      const rows: { orgId: string }[] = await manager.query(`SELECT org_id AS "orgId" FROM migration_run_items WHERE run_id = $1 AND status = 'pending'`, [id]);
      return rows.map((r) => r.orgId);
    });
  }

  async itemStatus(id: string, orgId: string): Promise<MigrationItemStatus | undefined> {
    const [row] = await this.dataSource.query(`SELECT status FROM migration_run_items WHERE run_id = $1 AND org_id = $2`, [id, orgId]);
    return row?.status;
  }

  /** The first terminal outcome wins: a duplicate job cannot overwrite a recorded result. */
  async finishItem(id: string, orgId: string, status: Exclude<MigrationItemStatus, 'pending'>, error: string | null = null): Promise<void> {
    await this.dataSource.query(
      `UPDATE migration_run_items SET status = $3, error = $4, finished_at = now() WHERE run_id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, status, error],
    );
  }

  async complete(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE migration_runs SET status = 'completed', finished_at = now() WHERE id = $1 AND status <> 'completed'`, [id]);
  }

  async get(id: string): Promise<MigrationRun> {
    const [row] = await this.dataSource.query(`${SUMMARY} WHERE r.id = $1 GROUP BY r.id`, [id]);
    if (!row) throw new NotFoundError(`Migration run ${id} does not exist.`);
    const failures = await this.dataSource.query(
      `SELECT org_id AS "orgId", error, finished_at AS "finishedAt" FROM migration_run_items WHERE run_id = $1 AND status = 'failed' ORDER BY finished_at`,
      [id],
    );
    return { ...toSummary(row), failures };
  }

  /** Newest first, keyset-paginated on (created_at, id); created_at has millisecond precision, like a JS Date. */
  async list(page: PageQuery): Promise<KeysetPage<MigrationRunSummary>> {
    const rows = page.after
      ? await this.dataSource.query(`${SUMMARY} WHERE (r.created_at, r.id) < ($2, $3) GROUP BY r.id ORDER BY r.created_at DESC, r.id DESC LIMIT $1`, [
          page.limit + 1,
          page.after.createdAt,
          page.after.id,
        ])
      : await this.dataSource.query(`${SUMMARY} GROUP BY r.id ORDER BY r.created_at DESC, r.id DESC LIMIT $1`, [page.limit + 1]);
    return keysetPage(rows.map(toSummary), page.limit);
  }
}
