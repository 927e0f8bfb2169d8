import { latestTenantMigration } from '@orgms/migrations';
import type { Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import type { TrackedRunStore } from '../fleet-migrations/tracked-run-store';
import { JOB_RETENTION, openQueue } from './queue-handles';
import type { RedisConnection } from './redis';
import {
  type ApplyFleetDatabaseLimitsJobData,
  type DrainServerJobData,
  JOBS,
  jobIds,
  type MigrateAllJobData,
  type MigrateTenantsJobData,
  QUEUES,
} from './registry';

/** Jobs of the migrations queue: fleet-wide runs (migrations, drains, database limits) and their parts. */
export type MigrationsJobData = MigrateAllJobData | MigrateTenantsJobData | DrainServerJobData | ApplyFleetDatabaseLimitsJobData;

export type MigrationsQueue = Queue<MigrationsJobData>;

type TrackedRuns = Pick<TrackedRunStore, 'create' | 'remove'>;

export function createMigrationsQueue(queue: QueueConfig, connection: RedisConnection): MigrationsQueue {
  return openQueue<MigrationsJobData>(QUEUES.migrations, queue, connection, {
    attempts: queue.retry.migrations.attempts,
    backoff: { type: 'exponential', delay: queue.retry.migrations.backoffMs },
    ...JOB_RETENTION,
  });
}

/**
 * Starts a fleet migration: records the run, then enqueues its parent job, which upgrades the
 * template, plans the run and adds one child per batch of organizations (apps/worker migrations.service).
 */
export function startMigrationRun(runs: TrackedRuns, queue: MigrationsQueue, requestId: string): Promise<string> {
  return startTrackedRun(runs, runs.create({ kind: 'migration', targetVersion: latestTenantMigration }, requestId), (runId) =>
    queue.add(JOBS.migrateAll, { runId, requestId, phase: 'plan' }, { jobId: jobIds.migrateAll(runId), attempts: 5 }),
  );
}

/** Starts a drain of a server (audited): records the run, then enqueues its job (the job id makes asking again a no-op). */
export function startDrain(runs: TrackedRuns, queue: MigrationsQueue, serverId: string, requestId: string): Promise<string> {
  const created = runs.create({ kind: 'drain', serverId }, requestId, (drainId) => ({
    action: 'database_server.drain_started',
    target: { type: 'database_server', id: serverId },
    details: { drain_id: drainId },
  }));
  return startTrackedRun(runs, created, (drainId) => queue.add(JOBS.drainServer, { drainId, requestId }, { jobId: jobIds.drainServer(drainId), attempts: 5 }));
}

/** Starts a run setting every active organization's database limits on its role: records the run, then enqueues its job. */
export function startDatabaseLimitsRun(runs: TrackedRuns, queue: MigrationsQueue, requestId: string): Promise<string> {
  return startTrackedRun(runs, runs.create({ kind: 'database_limits' }, requestId), (runId) =>
    queue.add(JOBS.applyFleetDatabaseLimits, { runId, requestId }, { jobId: jobIds.applyFleetDatabaseLimits(runId), attempts: 5 }),
  );
}

/** If Redis refuses the job the recorded run is removed again, so no run waits forever. */
async function startTrackedRun(runs: TrackedRuns, created: Promise<string>, enqueue: (runId: string) => Promise<unknown>): Promise<string> {
  const runId = await created;
  try {
    await enqueue(runId);
  } catch (error) {
    await runs.remove(runId);
    throw error;
  }
  return runId;
}
