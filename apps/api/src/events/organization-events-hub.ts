import { EventEmitter } from 'node:events';
import type { QueueConfig } from '@orgms/common/config';
import type { OrganizationStatus } from '@orgms/common/entities/organization-status';
import { type OrganizationEventMessage, organizationEventsChannel, parseOrganizationEvent } from '@orgms/common/events/organization-events';
import type { Logger } from '@orgms/common/logger';
import { createRedis } from '@orgms/common/queues/redis';

export type StatusMessage = Extract<OrganizationEventMessage, { type: 'status' }>;

/** How often a waiter re-reads the control database, in case a pub/sub message was lost. */
const RECHECK_MS = 1000;

/**
 * This replica's single subscription to the organization-events channel, fanned out in
 * process: long-polls and SSE streams listen here, and `evict` messages close this replica's
 * pools for an organization that is being deleted. One Redis connection per replica, however
 * many clients wait.
 */
export class OrganizationEventsHub {
  private readonly emitter = new EventEmitter();
  private readonly subscriber;

  constructor(
    queue: Pick<QueueConfig, 'redisUrl' | 'prefix'>,
    private readonly logger: Logger,
    private readonly onEvict: (orgId: string) => Promise<void> | void,
  ) {
    this.emitter.setMaxListeners(0);
    // A subscriber must wait for Redis (and resubscribes by itself after a reconnect).
    this.subscriber = createRedis(queue, 'worker');
    this.subscriber
      .subscribe(organizationEventsChannel(queue))
      .catch((error) => logger.warn('could not subscribe to organization events', { error: error.message }));
    this.subscriber.on('message', (_channel, raw: string) => this.dispatch(raw));
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
    this.emitter.removeAllListeners();
    // disconnect(), not quit(): quit waits for Redis, which may be the very thing that is down.
    this.subscriber.disconnect();
  }

  private dispatch(raw: string): void {
    const message = parseOrganizationEvent(raw);
    if (!message) return;
    if (message.type === 'status') {
      this.emitter.emit(message.orgId, message);
      return;
    }
    Promise.resolve(this.onEvict(message.orgId)).catch((error) =>
      this.logger.warn('could not evict organization pools', { orgId: message.orgId, error: (error as Error).message }),
    );
  }
}
