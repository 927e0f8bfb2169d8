import type { TrackedRun, TrackedRunSummary } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Page } from '../http/pagination';
import { isoOrNull } from '../http/timestamps';
import type { DatabaseLimitsRunBody } from '../limits/limits.responses';
import type { MigrationRunBody, MigrationRunListBody, MigrationRunSummaryBody, ServerDrainBody } from './fleet-migrations.responses';

/**
 * The progress (0–1) of a run. Nothing is planned yet while it is queued: 0 then rather than a
 * misleading 100%.
 */
function runProgress(totals: { total: number; pending: number }, status: string): number {
  const { total, pending } = totals;
  return total === 0 ? (status === 'completed' ? 1 : 0) : Number(((total - pending) / total).toFixed(4));
}

/** What every kind of run shows: status, counts, progress and timestamps. */
function presentRun(run: TrackedRunSummary) {
  const { total, pending, succeeded, failed, skipped } = run.totals;
  return {
    id: run.id,
    status: run.status,
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

function presentFailures(run: TrackedRun) {
  return run.failures.map((f) => ({ org_id: f.orgId, error: f.error, finished_at: isoOrNull(f.finishedAt) }));
}

export function presentMigrationRunSummary(run: TrackedRunSummary<'migration'>): MigrationRunSummaryBody {
  return { ...presentRun(run), target_version: run.targetVersion, template: run.templateOutcome };
}

export function presentMigrationRun(run: TrackedRun<'migration'>): MigrationRunBody {
  return { ...presentMigrationRunSummary(run), failures: presentFailures(run) };
}

export function presentMigrationRunPage(page: Page<TrackedRunSummary<'migration'>>): MigrationRunListBody {
  return { items: page.items.map(presentMigrationRunSummary), next_cursor: page.nextCursor };
}

export function presentServerDrain(drain: TrackedRun<'drain'>): ServerDrainBody {
  return { ...presentRun(drain), server_id: drain.serverId, failures: presentFailures(drain) };
}

export function presentDatabaseLimitsRun(run: TrackedRun<'database_limits'>): DatabaseLimitsRunBody {
  return { ...presentRun(run), failures: presentFailures(run) };
}
