import type { Queue } from 'bullmq';
import { enqueueOnce } from '../queues/provisioning-queue';
import { JOB_RETENTION } from '../queues/queue-handles';
import { type ApplyDatabaseLimitsJobData, JOBS, jobIds } from '../queues/registry';

/**
 * Asks the worker to set one organization's database limits on its role again, on the
 * maintenance queue (what PATCH /organizations/{id}/limits calls once the overrides are stored).
 * The job reads the overrides when it runs, so while one is waiting, asking again adds nothing.
 */
export function enqueueDatabaseLimits(maintenance: Queue, data: ApplyDatabaseLimitsJobData): Promise<boolean> {
  return enqueueOnce(maintenance, JOBS.applyDatabaseLimits, jobIds.applyDatabaseLimits(data.orgId), data, {
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    ...JOB_RETENTION,
  });
}
