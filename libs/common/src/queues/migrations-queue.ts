import type { Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import type { MigrationRunStore } from '../control-plane/migration-run-store';
import type { ServerDrainStore } from '../control-plane/server-drain-store';
import { JOB_RETENTION, openQueue } from './queue-handles';
import type { RedisConnection } from './redis';
import { type DrainServerJobData, JOBS, jobIds, type MigrateAllJobData, type MigrateTenantJobData, QUEUES } from './registry';

/** Jobs of the migrations queue: fleet-wide runs (migrations, drains) and their parts. */
export type MigrationsJobData = MigrateAllJobData | MigrateTenantJobData | DrainServerJobData;

export type MigrationsQueue = Queue<MigrationsJobData>;

export function createMigrationsQueue(queue: QueueConfig, connection: RedisConnection): MigrationsQueue {
  return openQueue<MigrationsJobData>(QUEUES.migrations, queue, connection, {
    attempts: queue.retry.migrations.attempts,
    backoff: { type: 'exponential', delay: queue.retry.migrations.backoffMs },
    ...JOB_RETENTION,
  });
}

/**
 * Starts a fleet migration: records the run, then enqueues its parent job, which upgrades the
 * template, plans the run and adds one child per organization (apps/worker migrations.service).
 * If Redis refuses the job the run row is removed again, so no run waits forever.
 */
export async function startMigrationRun(runs: MigrationRunStore, queue: MigrationsQueue, requestId: string): Promise<string> {
  const runId = await runs.create(requestId);
  try {
    await queue.add(JOBS.migrateAll, { runId, requestId, phase: 'plan' }, { jobId: jobIds.migrateAll(runId), attempts: 5 });
  } catch (error) {
    await runs.remove(runId);
    throw error;
  }
  return runId;
}

/**
 * Starts a drain of a server: records the run, then enqueues its job (the job id makes asking
 * again a no-op). If Redis refuses the job the run row is removed again, so no run waits forever.
 */
export async function startDrain(
  drains: Pick<ServerDrainStore, 'create' | 'remove'>,
  queue: MigrationsQueue,
  serverId: string,
  requestId: string,
): Promise<string> {
  const drainId = await drains.create(serverId, requestId);
  try {
    await queue.add(JOBS.drainServer, { drainId, requestId }, { jobId: jobIds.drainServer(drainId), attempts: 5 });
  } catch (error) {
    await drains.remove(drainId);
    throw error;
  }
  return drainId;
}
