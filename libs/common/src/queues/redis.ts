import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';
import type { QueueConfig } from '../config';
import { isRedisClusterUrl, parseRedisClusterUrl } from './redis-url';

/** One Redis or a Redis Cluster (REDIS_URL `redis+cluster://…`): BullMQ, pub/sub and the counters take either. */
export type RedisConnection = Redis | Cluster;

const retryStrategy = (times: number) => Math.min(times * 200, 2000);

/**
 * Workers and queue-event listeners must wait for Redis forever (`maxRetriesPerRequest: null`,
 * BullMQ's requirement); the API must fail fast instead, so a request never hangs on a dead
 * Redis: the organization row is already committed and the reconciler enqueues it later.
 */
export function createRedis(queue: Pick<QueueConfig, 'redisUrl'>, role: 'worker' | 'api'): RedisConnection {
  const redis = isRedisClusterUrl(queue.redisUrl) ? createCluster(queue.redisUrl, role) : createSingle(queue.redisUrl, role);
  // Connection errors are reported by /ready and by the owners' own checks; without a
  // listener ioredis would print every failed reconnect as an unhandled error.
  redis.on('error', () => undefined);
  return redis;
}

function createSingle(url: string, role: 'worker' | 'api'): Redis {
  const options: RedisOptions =
    role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 };
  return new IORedis(url, { ...options, lazyConnect: false, retryStrategy });
}

/**
 * A cluster has two layers: the Cluster, which knows the slots, and one connection per node
 * (`redisOptions`). BullMQ reads `maxRetriesPerRequest` from `redisOptions`. The API's fail-fast
 * is the Cluster's `enableOfflineQueue: false` (a command while the cluster is not ready fails
 * at once); the node connections keep their offline queue, because they connect lazily and would
 * otherwise refuse the very first command sent to each node.
 */
function createCluster(url: string, role: 'worker' | 'api'): Cluster {
  const { nodes, username, password, tls } = parseRedisClusterUrl(url);
  const nodeOptions: RedisOptions = {
    username,
    password,
    tls: tls ? {} : undefined,
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, connectTimeout: 2000 }),
  };
  return new Cluster(nodes, {
    redisOptions: nodeOptions,
    enableOfflineQueue: role === 'worker',
    lazyConnect: false,
    clusterRetryStrategy: retryStrategy,
  });
}

/**
 * Closes a connection for good. `quit()` waits for Redis to answer, which never happens while it
 * is unreachable, and the reconnect timer would keep the process alive: disconnect instead.
 */
export async function closeRedis(redis: RedisConnection): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => redis.disconnect());
  } else {
    redis.disconnect();
  }
}
