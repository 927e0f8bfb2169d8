import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import { QUEUES } from './registry';

/**
 * One Queue handle per registered queue, for observing them (Bull Board, job-count metrics).
 * A Queue on a shared connection does not close it: the owner quits the connection itself.
 */
export function openQueueHandles(config: Config, connection: Redis): Queue[] {
  return Object.values(QUEUES).map((name) => {
    const queue = new Queue(name, { connection, prefix: config.queuePrefix });
    queue.on('error', () => undefined);
    return queue;
  });
}
