import type { MigrationRun, MigrationRunSummary } from '@orgms/common/control-plane/migration-run-store';
import type { MigrationRunBody, MigrationRunListBody, MigrationRunSummaryBody } from '../openapi/response-schemas';
import type { Page } from '../services/pagination';
import { isoOrNull, runProgress } from './run-progress';

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
    progress: runProgress(run.totals, run.status),
    created_at: new Date(run.createdAt).toISOString(),
    started_at: isoOrNull(run.startedAt),
    finished_at: isoOrNull(run.finishedAt),
  };
}

export function presentMigrationRun(run: MigrationRun): MigrationRunBody {
  return {
    ...presentMigrationRunSummary(run),
    failures: run.failures.map((f) => ({ org_id: f.orgId, error: f.error, finished_at: isoOrNull(f.finishedAt) })),
  };
}

export function presentMigrationRunPage(page: Page<MigrationRunSummary>): MigrationRunListBody {
  return { items: page.items.map(presentMigrationRunSummary), next_cursor: page.nextCursor };
}
