import type { MigrationRun, MigrationRunSummary } from '@orgms/common/control-plane/migration-run-store';
import type { MigrationRunBody, MigrationRunListBody, MigrationRunSummaryBody } from '../openapi/response-schemas';
import type { Page } from '../services/pagination';

export function presentMigrationRunSummary(run: MigrationRunSummary): MigrationRunSummaryBody {
  const { total, pending, succeeded, failed, skipped } = run.totals;
  return {
    id: run.id,
    status: run.status,
    target_version: run.targetVersion,
    template: run.templateOutcome,
    total,
    succeeded,
    failed,
    skipped,
    pending,
    // Planning has not happened yet while queued: 0 rather than a misleading 100%.
    progress: total === 0 ? (run.status === 'completed' ? 1 : 0) : Number(((total - pending) / total).toFixed(4)),
    created_at: new Date(run.createdAt).toISOString(),
    started_at: run.startedAt ? new Date(run.startedAt).toISOString() : null,
    finished_at: run.finishedAt ? new Date(run.finishedAt).toISOString() : null,
  };
}

export function presentMigrationRun(run: MigrationRun): MigrationRunBody {
  return {
    ...presentMigrationRunSummary(run),
    failures: run.failures.map((f) => ({ org_id: f.orgId, error: f.error, finished_at: f.finishedAt ? new Date(f.finishedAt).toISOString() : null })),
  };
}

export function presentMigrationRunPage(page: Page<MigrationRunSummary>): MigrationRunListBody {
  return { items: page.items.map(presentMigrationRunSummary), next_cursor: page.nextCursor };
}
