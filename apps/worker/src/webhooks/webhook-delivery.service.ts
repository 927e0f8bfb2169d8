import type { WebhooksConfig } from '@orgms/common/config';
import type { Logger } from '@orgms/common/logger';
import type { DeliverWebhooksJobData } from '@orgms/common/queues/registry';
import { currentContext, runWithContext } from '@orgms/common/request-context';
import { withSpan } from '@orgms/common/tracing/tracing';
import type { DueDelivery, WebhookStore } from '@orgms/common/webhooks/webhook-store';
import { Webhook } from 'standardwebhooks';
import { webhookDeliveries } from '../metrics';
import type { SendOutcome, WebhookRequest } from '../webhooks/webhook-sender';

/** Retries are at most this far apart, so an endpoint that comes back is reached within the hour. */
const MAX_RETRY_DELAY_MS = 3600 * 1000;

/** How long finished deliveries (delivered or failed) stay in the history that GET /webhooks/{id}/deliveries shows. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Deliveries one lane job finishes before it makes room for other lanes (it comes back at once). */
const DELIVERIES_PER_RUN = 50;

export interface WebhookDeliveryDeps {
  store: Pick<WebhookStore, 'nextInLane' | 'recordDelivered' | 'recordRetry' | 'recordFailed' | 'pendingLanes' | 'pruneFinished'>;
  settings: Pick<WebhooksConfig, 'allowPrivate' | 'timeoutMs' | 'retryBaseMs' | 'maxAgeMs'>;
  send: (request: WebhookRequest) => Promise<SendOutcome>;
  /** Hands a lane to the queue (one job per lane). */
  enqueueLane: (lane: DeliverWebhooksJobData) => Promise<unknown>;
  /** The same, and a lane job that waits for a later retry runs now. */
  wakeLane: (lane: DeliverWebhooksJobData) => Promise<unknown>;
  logger: Logger;
}

/** The delay before retry `attempt` (1 = the first retry): the base, doubled each time, at most an hour. */
export function retryDelayMs(baseMs: number, attempt: number): number {
  return Math.min(baseMs * 2 ** Math.min(attempt - 1, 30), MAX_RETRY_DELAY_MS);
}

/**
 * Sends the deliveries of one lane (one endpoint, one organization) in event order, one at a time:
 * a delivery that fails holds the ones after it until it succeeds or runs out of time, so a
 * receiver never sees an organization's events out of order. Failed attempts are retried with
 * exponential backoff until the delivery is WEBHOOK_MAX_AGE_MS old; then it fails, the endpoint
 * is marked `failing` (GET /webhooks/{id}), an error is logged and counted, and the lane moves on.
 * At least once: a worker that dies after sending but before recording sends again, with the same
 * `webhook-id`, so receivers can drop the duplicate.
 */
export class WebhookDeliveryService {
  constructor(private readonly deps: WebhookDeliveryDeps) {}

  /** Sends what the lane has due; resolves to when the lane must run again (a retry; now: more to send), or nothing when it is empty. */
  async deliverLane(endpointId: string, orgId: string): Promise<Date | undefined> {
    for (let finished = 0; finished < DELIVERIES_PER_RUN; finished += 1) {
      const due = await this.deps.store.nextInLane(endpointId, orgId);
      if (!due) return undefined;
      if (due.nextAttemptAt.getTime() > Date.now()) return due.nextAttemptAt;
      // Each delivery logs under the request id of its event, so a request can be followed to its webhooks.
      const outer = currentContext();
      const context = { ...outer, requestId: due.requestId ?? outer?.requestId ?? `webhook-${due.id}` };
      const attributes = { 'orgms.webhook.endpoint_id': endpointId, 'orgms.webhook.delivery_id': due.id, 'orgms.webhook.event_type': due.eventType };
      // The delivery's span continues the trace of the change that caused its event.
      const retryAt = await runWithContext(context, () =>
        withSpan('webhook delivery', attributes, () => this.deliver(due, endpointId), due.traceParent ?? undefined),
      );
      if (retryAt) return retryAt;
    }
    return new Date();
  }

  /** One attempt at `due`, recorded; when it is to be tried again, when. */
  private async deliver(due: DueDelivery, endpointId: string): Promise<Date | undefined> {
    const { store, settings, logger } = this.deps;
    // The outcome is the attempt's record (status, latency, error) as the store writes it.
    const attempt = await this.attempt(due);
    if (attempt.ok) {
      await store.recordDelivered(due, endpointId, attempt);
      webhookDeliveries.inc({ outcome: 'delivered' });
      return undefined;
    }
    const deadline = new Date(due.createdAt).getTime() + settings.maxAgeMs;
    if (Date.now() >= deadline) {
      await store.recordFailed(due, endpointId, attempt);
      webhookDeliveries.inc({ outcome: 'failed' });
      logger.error('webhook delivery failed after retrying for WEBHOOK_MAX_AGE_MS; the endpoint is marked failing', {
        endpointId,
        deliveryId: due.id,
        eventType: due.eventType,
        attempts: due.attempts + 1,
        error: attempt.error,
      });
      // The lane goes on with its next delivery.
      return undefined;
    }
    // The last retry falls on the deadline itself, so a delivery gets its whole time.
    const next = new Date(Math.min(Date.now() + retryDelayMs(settings.retryBaseMs, due.attempts + 1), deadline));
    await store.recordRetry(due, attempt, next);
    webhookDeliveries.inc({ outcome: 'retried' });
    logger.warn('webhook delivery attempt failed; retrying', { endpointId, deliveryId: due.id, attempts: due.attempts + 1, error: attempt.error, next });
    return next;
  }

  /**
   * Hands every lane with pending deliveries to the queue: the backstop for notifications that
   * were missed. A lane with a delivery due now is woken even if its job waits for a later retry
   * (its endpoint got a new URL). It also keeps the history bounded: finished deliveries older
   * than DELIVERY_RETENTION_MS are deleted, a batch per sweep.
   */
  async sweep(): Promise<{ lanes: number; pruned: number }> {
    const lanes = await this.deps.store.pendingLanes();
    for (const { due, ...lane } of lanes) await (due ? this.deps.wakeLane(lane) : this.deps.enqueueLane(lane));
    return { lanes: lanes.length, pruned: await this.deps.store.pruneFinished(DELIVERY_RETENTION_MS) };
  }

  /** One signed POST, per the Standard Webhooks specification: one signature per current secret, space-separated. */
  private attempt(due: DueDelivery): Promise<SendOutcome> {
    const { settings, send } = this.deps;
    const at = new Date();
    const signature = due.secrets.map((secret) => new Webhook(secret).sign(due.messageId, at, due.payload)).join(' ');
    return send({
      url: due.url,
      body: due.payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'orgms-webhooks/1',
        'webhook-id': due.messageId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      },
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivate,
    });
  }
}
