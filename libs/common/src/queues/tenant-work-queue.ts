import type { Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import { JOB_RETENTION, openQueue } from './queue-handles';
import type { RedisConnection } from './redis';
import { QUEUES, type TenantWorkJobData } from './registry';

export type TenantWorkQueue = Queue<TenantWorkJobData>;

/**
 * Exports and moves: long work on one organization's database, asked for by that organization or
 * its operators. A worker runs them with TENANT_WORK_CONCURRENCY slots of their own, so however
 * many wait, the provisioning queue's slots stay free for new organizations. They keep the
 * provisioning retry settings they had on that queue.
 */
export function createTenantWorkQueue(queue: QueueConfig, connection: RedisConnection): TenantWorkQueue {
  return openQueue<TenantWorkJobData>(QUEUES.tenantWork, queue, connection, {
    attempts: queue.retry.provisioning.attempts,
    backoff: { type: 'exponential', delay: queue.retry.provisioning.backoffMs },
    ...JOB_RETENTION,
  });
}
