import type { Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import { openQueue } from './queue-handles';
import type { RedisConnection } from './redis';
import { type DeliverWebhooksJobData, JOBS, jobIds, QUEUES, type SweepWebhooksJobData } from './registry';

export type WebhooksQueue = Queue<DeliverWebhooksJobData | SweepWebhooksJobData>;

export function createWebhooksQueue(queue: Pick<QueueConfig, 'prefix'>, connection: RedisConnection): WebhooksQueue {
  return openQueue<DeliverWebhooksJobData | SweepWebhooksJobData>(QUEUES.webhooks, queue, connection);
}

/**
 * Asks for a lane's deliveries. One job per lane (its id names the endpoint and the organization),
 * so a lane is never delivered by two workers at once; adding it while it waits or runs is a
 * no-op. A finished lane job is removed at once, so the next delivery can add it again; its
 * attempts are recorded on the deliveries themselves (GET /webhooks/{id}/deliveries).
 */
export function enqueueWebhookLane(queue: WebhooksQueue, lane: DeliverWebhooksJobData): Promise<unknown> {
  return queue.add(JOBS.deliverWebhooks, lane, {
    jobId: jobIds.deliverWebhooks(lane.endpointId, lane.orgId),
    removeOnComplete: true,
    removeOnFail: true,
  });
}
