import { type DefaultJobOptions, Queue } from 'bullmq';
import type { QueueConfig } from '../config';
import { queueTelemetry } from '../tracing/tracing';
import type { RedisConnection } from './redis';
import type { QueueName } from './registry';

/**
 * Finished jobs are kept for a while so operators see them in Bull Board; a finished job never
 * blocks its id, because the enqueue helpers replace finished jobs.
 */
export const JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
} as const;

/**
 * A Queue of the registry under QUEUE_PREFIX. Its errors (Redis unreachable) are reported by
 * /ready and the owners' own calls, so the event is only swallowed here. A Queue on a shared
 * connection does not close it: the owner quits the connection itself. With tracing on, a job
 * carries the trace of the code that added it (BullMQ's telemetry).
 */
export function openQueue<T = unknown>(
  name: QueueName,
  settings: Pick<QueueConfig, 'prefix'>,
  connection: RedisConnection,
  defaultJobOptions?: DefaultJobOptions,
): Queue<T> {
  const queue = new Queue<T>(name, { connection, prefix: settings.prefix, defaultJobOptions, telemetry: queueTelemetry() });
  queue.on('error', () => undefined);
  return queue;
}
