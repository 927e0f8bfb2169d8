import IORedis, { Cluster, type Redis, type RedisOptions } from 'ioredis';
import type { QueueConfig, RedisTimeouts } from '../config';
import { withTimeout } from '../process/timeout';
import { isRedisClusterUrl, parseRedisClusterUrl } from './redis-url';

/** One Redis or a Redis Cluster (REDIS_URL `redis+cluster://…`): BullMQ, pub/sub and the counters take either. */
export type RedisConnection = Redis | Cluster;

const retryStrategy = (times: number) => Math.min(times * 200, 2000);

/** Without configured timeouts (tests' and tools' own clients): ioredis' connect bound, no command bound, no watch. */
const UNWATCHED: RedisTimeouts = { connectMs: 2000, commandMs: 0 };

/**
 * Workers and queue-event listeners must wait for Redis forever (`maxRetriesPerRequest: null`,
 * BullMQ's requirement); the API must fail fast instead, so a request never hangs on a dead
 * Redis: the organization row is already committed and the reconciler enqueues it later. A
 * stalled Redis (packets dropped, nothing refused) is bounded too: the API's commands time out
 * after `commandMs`, and every connection is watched for stalls (watchForStalls).
 */
export function createRedis(queue: Pick<QueueConfig, 'redisUrl'> & { timeouts?: RedisTimeouts }, role: 'worker' | 'api'): RedisConnection {
  const timeouts = queue.timeouts ?? UNWATCHED;
  const redis = isRedisClusterUrl(queue.redisUrl) ? createCluster(queue.redisUrl, role, timeouts) : createSingle(queue.redisUrl, role, timeouts);
  // Connection errors are reported by /ready and by the owners' own checks; without a
  // listener ioredis would print every failed reconnect as an unhandled error.
  redis.on('error', () => undefined);
  if (timeouts.commandMs > 0) watchForStalls(redis, timeouts.commandMs);
  return redis;
}

/**
 * The API's commands give up after `commandMs` (a worker's cannot: BullMQ's blocking commands wait
 * longer on purpose, so its connection is only watched).
 */
function apiCommandTimeout(role: 'worker' | 'api', timeouts: RedisTimeouts): RedisOptions {
  return role === 'api' && timeouts.commandMs > 0 ? { commandTimeout: timeouts.commandMs } : {};
}

function createSingle(url: string, role: 'worker' | 'api', timeouts: RedisTimeouts): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, connectTimeout: timeouts.connectMs }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: timeouts.connectMs, ...apiCommandTimeout(role, timeouts) };
  return new IORedis(url, { ...options, lazyConnect: false, retryStrategy });
}

/**
 * A connection whose network stalls stays `ready` for ioredis (nothing was refused or reset), and
 * may never carry an answer again (a peer that restarted behind the stall). Each `intervalMs` a
 * ready connection is pinged; a ping without an answer within `intervalMs` means a stall, and the
 * connection is dropped and opened again: the new one is `ready` as soon as the network is back,
 * and what waits for `ready` (the API's held jobs, the worker's first sweep) runs at once.
 */
function watchForStalls(redis: RedisConnection, intervalMs: number): void {
  let probing = false;
  const timer = setInterval(() => {
    if (probing || redis.status !== 'ready') return;
    probing = true;
    withTimeout(redis.ping(), intervalMs, 'a Redis ping')
      .catch(() => {
        if (redis.status === 'ready') redis.disconnect(true);
      })
      .finally(() => {
        probing = false;
      });
  }, intervalMs);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
}

/**
 * A cluster has two layers: the Cluster, which knows the slots, and one connection per node
 * (`redisOptions`). BullMQ reads `maxRetriesPerRequest` from `redisOptions`. The API's fail-fast
 * is the Cluster's `enableOfflineQueue: false` (a command while the cluster is not ready fails
 * at once); the node connections keep their offline queue, because they connect lazily and would
 * otherwise refuse the very first command sent to each node.
 */
function createCluster(url: string, role: 'worker' | 'api', timeouts: RedisTimeouts): Cluster {
  const { nodes, username, password, tls } = parseRedisClusterUrl(url);
  const nodeOptions: RedisOptions = {
    username,
    password,
    tls: tls ? {} : undefined,
    connectTimeout: timeouts.connectMs,
    ...(role === 'worker' ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 1, ...apiCommandTimeout(role, timeouts) }),
  };
  return new Cluster(nodes, {
    redisOptions: nodeOptions,
    enableOfflineQueue: role === 'worker',
    lazyConnect: false,
    clusterRetryStrategy: retryStrategy,
  });
}

/** ioredis' error for a command that got no answer within `commandTimeout`. */
export function isRedisCommandTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
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
