import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { JOB_RETENTION, openQueue } from './queue-handles';
import { type DeprovisionJobData, JOBS, jobIds, type OrganizationJobData, type ProvisionJobData, QUEUES } from './registry';

export type ProvisioningQueue = Queue<OrganizationJobData>;

export function createProvisioningQueue(config: Config, connection: Redis): ProvisioningQueue {
  return openQueue<OrganizationJobData>(QUEUES.provisioning, config, connection, {
    attempts: config.provisionAttempts,
    backoff: { type: 'exponential', delay: config.provisionBackoffMs },
    ...JOB_RETENTION,
  });
}

/**
 * Enqueues provisioning of `orgId` exactly once: a waiting, delayed or running job with the
 * same id is left alone; a finished one (from an earlier attempt) is replaced. Returns whether
 * a job was added.
 */
export function enqueueProvision(queue: ProvisioningQueue, data: ProvisionJobData): Promise<boolean> {
  return enqueueOnce(queue, JOBS.provision, jobIds.provision(data.orgId), data);
}

/** Enqueues deletion of `orgId`'s database, with the same once-only rule as provisioning. */
export function enqueueDeprovision(queue: ProvisioningQueue, data: DeprovisionJobData): Promise<boolean> {
  return enqueueOnce(queue, JOBS.deprovision, jobIds.deprovision(data.orgId), data);
}

async function enqueueOnce(queue: ProvisioningQueue, name: string, jobId: string, data: OrganizationJobData): Promise<boolean> {
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  await queue.add(name, data, { jobId });
  return true;
}
