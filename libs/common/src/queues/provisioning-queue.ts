import type { JobsOptions, Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import { JOB_RETENTION, openQueue } from './queue-handles';
import type { RedisConnection } from './redis';
import {
  type BackupJobData,
  type ExportJobData,
  JOBS,
  jobIds,
  type MoveJobData,
  type ProvisioningJobData,
  type ProvisionJobData,
  type PurgeJobData,
  QUEUES,
  type RestoreJobData,
} from './registry';
import type { TenantWorkQueue } from './tenant-work-queue';

export type ProvisioningQueue = Queue<ProvisioningJobData>;

export function createProvisioningQueue(queue: QueueConfig, connection: RedisConnection): ProvisioningQueue {
  return openQueue<ProvisioningJobData>(QUEUES.provisioning, queue, connection, {
    attempts: queue.retry.provisioning.attempts,
    backoff: { type: 'exponential', delay: queue.retry.provisioning.backoffMs },
    ...JOB_RETENTION,
  });
}

/**
 * The work the worker does on one organization's database, as the API and the reconciler ask
 * for it. Each resolves to whether a job was added: a waiting, delayed or running job of the
 * same organization and kind is left alone; a finished one (an earlier attempt) is replaced.
 */
export interface OrganizationJobs {
  /** A new organization's first job: no earlier job can exist for a new id, so no lookup first. */
  provisionNew(data: ProvisionJobData): Promise<boolean>;
  provision(data: ProvisionJobData): Promise<boolean>;
  purge(data: PurgeJobData): Promise<boolean>;
  move(data: MoveJobData): Promise<boolean>;
  /** An export whose job was lost, asked for again (the API adds an export's first job itself). */
  export(data: ExportJobData): Promise<boolean>;
  /** A backup: asked for by the schedule (`backups` sweep) or again when its job was lost. */
  backup(data: BackupJobData): Promise<boolean>;
  /** An in-place restore: asked for by the API, or again by the stuck-organizations sweep. */
  restore(data: RestoreJobData): Promise<boolean>;
}

/** Provisioning and purges on the provisioning queue; moves, exports, backups and restores on the tenant-work queue. */
export function organizationJobs(queues: { provisioning: ProvisioningQueue; tenantWork: TenantWorkQueue }): OrganizationJobs {
  const { provisioning, tenantWork } = queues;
  return {
    provisionNew: async (data) => {
      await provisioning.add(JOBS.provision, data, { jobId: jobIds.provision(data.orgId) });
      return true;
    },
    provision: (data) => enqueueOnce(provisioning, JOBS.provision, jobIds.provision(data.orgId), data),
    purge: (data) => enqueueOnce(provisioning, JOBS.purge, jobIds.purge(data.orgId), data),
    move: (data) => enqueueOnce(tenantWork, JOBS.move, jobIds.move(data.orgId), data),
    export: (data) => enqueueOnce(tenantWork, JOBS.export, jobIds.export(data.exportId), data),
    backup: (data) => enqueueOnce(tenantWork, JOBS.backup, jobIds.backup(data.backupId), data),
    restore: (data) => enqueueOnce(tenantWork, JOBS.restore, jobIds.restore(data.orgId), data),
  };
}

/** Adds the job unless one with its id waits or runs; a finished one is replaced. Whether it was added. */
export async function enqueueOnce<T>(queue: Queue<T>, name: string, jobId: string, data: T, options: JobsOptions = {}): Promise<boolean> {
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  // A queue typed by its data types its job names by it too; the names here are the registry's.
  await (queue as Queue).add(name, data, { ...options, jobId });
  return true;
}
