import { EventEmitter } from 'node:events';
import type { QueueConfig } from '@orgms/common/config';
import { type OrganizationEventMessage, organizationEventsChannel, parseOrganizationEvent } from '@orgms/common/events/organization-events';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStatus } from '@orgms/common/organizations/organization-status';
import { createRedis } from '@orgms/common/queues/redis';

export type StatusMessage = Extract<OrganizationEventMessage, { type: 'status' }>;

/** How often a waiter re-reads the control database, in case a pub/sub message was lost. */
const RECHECK_MS = 1000;

/** What this replica does with what it hears, besides waking status waiters. */
export interface EventReactions {
  /** Close this replica's pools of an organization (deleted, or moving). */
  evict: (orgId: string) => Promise<void> | void;
  /** Drop what this replica cached of a row that changed. */
  invalidate: (change: { orgId: string } | { adminId: string }) => void;
  /** Drop every cached row: messages may have been missed (the subscription was down). */
  reset: () => void;
}

/**
 * This replica's single subscription to the organization-events channel, fanned out in
 * process: long-polls and SSE streams listen here, `evict` messages close this replica's pools
 * for an organization that is being deleted or moved, and every change drops the replica's
 * cached copy of the row (events/invalidated-cache.ts). `isLive` says whether the subscription
 * is up: caches serve only while it is. One Redis connection per replica, however many clients wait.
 */
export class OrganizationEventsHub {
  private readonly emitter = new EventEmitter();
  private readonly subscriber;
  private live = false;

  constructor(
    queue: Pick<QueueConfig, 'redisUrl' | 'prefix'>,
    private readonly logger: Logger,
    private readonly reactions: EventReactions,
  ) {
    this.emitter.setMaxListeners(0);
    const channel = organizationEventsChannel(queue);
    // A subscriber must wait for Redis (and resubscribes by itself after a reconnect).
    this.subscriber = createRedis(queue, 'worker');
    this.subscriber.on('message', (_channel, raw: string) => this.dispatch(raw));
    const down = () => {
      if (this.live) logger.warn('organization events subscription lost; cached rows dropped until it is back');
      this.live = false;
      reactions.reset();
    };
    for (const event of ['close', 'reconnecting', 'end']) this.subscriber.on(event, down);
    // Subscribing again is a no-op when ioredis already did; only once Redis confirms is the cache trusted again.
    this.subscriber.on('ready', () => {
      this.subscriber.subscribe(channel).then(
        () => {
          reactions.reset(); // whatever was published while the subscription was down is unknown
          this.live = true;
        },
        (error) => logger.warn('could not subscribe to organization events', { error: error.message }),
      );
    });
  }

  /** Whether every change published now will be heard: caches may serve only then. */
  get isLive(): boolean {
    return this.live;
  }

  /** Calls `listener` for every status change of `orgId` heard from now on; returns the unsubscribe. */
  subscribe(orgId: string, listener: (message: StatusMessage) => void): () => void {
    this.emitter.on(orgId, listener);
    return () => this.emitter.off(orgId, listener);
  }

  /**
   * Resolves once `orgId` is no longer `status` (true) or after `timeoutMs`/abort (false).
   * Listens first, then re-reads, so a change between the caller's read and now is not missed.
   */
  async waitForStatusChange(
    orgId: string,
    status: OrganizationStatus,
    timeoutMs: number,
    readStatus: () => Promise<OrganizationStatus>,
    signal?: AbortSignal,
  ): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const finish = (changed: boolean) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(recheck);
        signal?.removeEventListener('abort', onAbort);
        resolve(changed);
      };
      const onAbort = () => finish(false);
      const check = () =>
        readStatus().then(
          (current) => current !== status && finish(true),
          () => undefined,
        );
      const unsubscribe = this.subscribe(orgId, (message) => message.status !== status && finish(true));
      const timer = setTimeout(() => finish(false), timeoutMs);
      const recheck = setInterval(check, RECHECK_MS);
      signal?.addEventListener('abort', onAbort);
      void check();
    });
  }

  async close(): Promise<void> {
    this.live = false;
    this.emitter.removeAllListeners();
    // disconnect(), not quit(): quit waits for Redis, which may be the very thing that is down.
    this.subscriber.disconnect();
  }

  private dispatch(raw: string): void {
    const message = parseOrganizationEvent(raw);
    if (!message) return;
    if (message.type === 'admin-changed') {
      this.reactions.invalidate({ adminId: message.adminId });
      return;
    }
    // The cached row goes first, so a waiter woken below already reads the new one.
    this.reactions.invalidate({ orgId: message.orgId });
    if (message.type === 'status') this.emitter.emit(message.orgId, message);
    if (message.type !== 'evict') return;
    Promise.resolve(this.reactions.evict(message.orgId)).catch((error) =>
      this.logger.warn('could not evict organization pools', { orgId: message.orgId, error: (error as Error).message }),
    );
  }
}
