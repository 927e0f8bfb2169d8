import type { QueueConfig } from '../config';
import type { OrganizationStatus } from '../organizations/organization-status';
import type { RedisConnection } from '../queues/redis';

/**
 * Organization events travel over Redis pub/sub so that every API replica hears them: status
 * changes feed long-polls and SSE streams, `evict` tells replicas to drop their pools for an
 * organization whose database is about to be dropped or moved, and every change of a cached
 * control-plane row (a status, `changed`, `admin-changed`) drops it from each replica's cache. Pub/sub is fire-and-forget: readers
 * also re-read the control database now and then, so a lost message only delays an answer.
 */
export type OrganizationEventMessage =
  | {
      type: 'status';
      orgId: string;
      /** The organization_events row id: orders messages and serves as the SSE event id. */
      eventId: string;
      from: OrganizationStatus | null;
      status: OrganizationStatus;
      step: string | null;
      detail: string | null;
      at: string;
    }
  | { type: 'evict'; orgId: string }
  /** The organization's row changed without a status change (rename, schema version): replicas drop what they cached of it. */
  | { type: 'changed'; orgId: string }
  /** A platform admin's password, activity or existence changed: replicas drop its cached token state. */
  | { type: 'admin-changed'; adminId: string };

/** The channel, prefixed by QUEUE_PREFIX so two deployments sharing a Redis never cross-talk. */
export function organizationEventsChannel(queue: Pick<QueueConfig, 'prefix'>): string {
  return `${queue.prefix}:organization-events`;
}

export interface OrganizationEventPublisher {
  publish(message: OrganizationEventMessage): void;
}

/**
 * Publishes on `redis` without waiting: a status change is already committed, and a worker's
 * Redis connection queues commands while Redis is down, which must never stall a job.
 */
export function redisEventPublisher(redis: RedisConnection, queue: Pick<QueueConfig, 'prefix'>): OrganizationEventPublisher {
  const channel = organizationEventsChannel(queue);
  return {
    publish(message) {
      redis.publish(channel, JSON.stringify(message)).catch(() => undefined);
    },
  };
}

export function parseOrganizationEvent(raw: string): OrganizationEventMessage | undefined {
  try {
    const message = JSON.parse(raw) as OrganizationEventMessage;
    if (message?.type === 'admin-changed') return typeof message.adminId === 'string' ? message : undefined;
    return typeof message?.orgId === 'string' && ['status', 'evict', 'changed'].includes(message.type) ? message : undefined;
  } catch {
    return undefined;
  }
}
