import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { JOBS, jobIds, type ProvisionJobData, QUEUES } from './registry';

export type ProvisioningQueue = Queue<ProvisionJobData>;

export function createProvisioningQueue(config: Config, connection: Redis): ProvisioningQueue {
  const queue = new Queue<ProvisionJobData>(QUEUES.provisioning, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: config.provisionAttempts,
      backoff: { type: 'exponential', delay: config.provisionBackoffMs },
      // Kept for a while so operators see them in Bull Board; a finished job no longer
      // blocks its id because enqueueProvision() replaces finished jobs.
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
    },
  });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Enqueues provisioning of `orgId` exactly once: a waiting, delayed or running job with the
 * same id is left alone; a finished one (from an earlier attempt) is replaced. Returns whether
 * a job was added.
 */
export async function enqueueProvision(queue: ProvisioningQueue, data: ProvisionJobData): Promise<boolean> {
  const jobId = jobIds.provision(data.orgId);
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  await queue.add(JOBS.provision, data, { jobId });
  return true;
}
