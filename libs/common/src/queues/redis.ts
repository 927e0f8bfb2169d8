import IORedis, { type Redis, type RedisOptions } from 'ioredis';
import type { QueueConfig } from '../config';

/**
 * Workers and queue-event listeners must wait for Redis forever (`maxRetriesPerRequest: null`,
 * BullMQ's requirement); the API must fail fast instead, so a request never hangs on a dead
 * Redis: the organization row is already committed and the reconciler enqueues it later.
 */
export function createRedis(queue: Pick<QueueConfig, 'redisUrl'>, role: 'worker' | 'api'): Redis {
  const options: RedisOptions =
    role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 };
  const redis = new IORedis(queue.redisUrl, {
    ...options,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  // Connection errors are reported by /ready and by the owners' own checks; without a
  // listener ioredis would print every failed reconnect as an unhandled error.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Closes a connection for good. `quit()` waits for Redis to answer, which never happens while it
 * is unreachable, and the reconnect timer would keep the process alive: disconnect instead.
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
