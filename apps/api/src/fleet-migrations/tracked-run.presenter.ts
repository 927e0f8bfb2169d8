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

/** One drain as stored, from which the API document's drain examples are rendered above. */
const queuedDrain: TrackedRun<'drain'> = {
  id: '2b3c4d5e-6f70-4a81-9b2c-3d4e5f607182',
  kind: 'drain',
  serverId: '7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  status: 'queued',
  requestId: null,
  createdAt: new Date('2026-11-22T08:00:00.000Z'),
  startedAt: null,
  finishedAt: null,
  totals: { total: 0, succeeded: 0, failed: 0, skipped: 0, pending: 0 },
  failures: [],
};

/** The document's examples of a drain (components.examples), so they cannot drift from the answers. */
export const drainExamples = {
  QueuedDrain: presentServerDrain(queuedDrain),
  CompletedDrainWithFailure: presentServerDrain({
    ...queuedDrain,
    status: 'completed',
    startedAt: new Date('2026-11-22T08:00:00.050Z'),
    finishedAt: new Date('2026-11-22T08:00:09.200Z'),
    totals: { total: 3, succeeded: 2, failed: 1, skipped: 0, pending: 0 },
    failures: [
      {
        orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
        error: 'copy: pg_restore failed (exit 1): could not connect',
        finishedAt: new Date('2026-11-22T08:00:09.120Z'),
      },
    ],
  }),
};
