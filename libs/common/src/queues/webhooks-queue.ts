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

/**
 * A lane with a delivery due now: its job runs now, even if it was waiting (delayed) for a later
 * retry, e.g. after its endpoint got a new URL; a lane without a job gets one.
 */
export async function wakeWebhookLane(queue: WebhooksQueue, lane: DeliverWebhooksJobData): Promise<void> {
  const job = await queue.getJob(jobIds.deliverWebhooks(lane.endpointId, lane.orgId));
  if (!job) {
    await enqueueWebhookLane(queue, lane);
    return;
  }
  // It may have started or finished in between: then there is nothing to wake.
  if (await job.isDelayed()) await job.promote().catch(() => undefined);
}
