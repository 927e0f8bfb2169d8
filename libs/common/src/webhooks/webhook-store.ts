import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '../database/returned-rows';
import { NotFoundError } from '../errors';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';
import type { SecretBox } from '../secret-box';
import { currentTraceParent } from '../tracing/tracing';
import type { WebhookEventType } from '../webhooks/webhook-events';

export const WEBHOOK_ENDPOINT_STATUSES = ['active', 'failing'] as const;
export type WebhookEndpointStatus = (typeof WEBHOOK_ENDPOINT_STATUSES)[number];

export const WEBHOOK_DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  /** `failing` once a delivery ran out of retries; the next successful delivery makes it `active` again. */
  status: WebhookEndpointStatus;
  failingSince: Date | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  orgId: string;
  eventId: string;
  eventType: WebhookEventType;
  /** `webhook-id`: the same for every attempt and every redelivery of one event. */
  messageId: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  responseStatus: number | null;
  latencyMs: number | null;
  lastError: string | null;
  redeliveryOf: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** The next delivery of a lane, with what sending it needs: the payload, the URL and the signing secrets. */
export interface DueDelivery {
  id: string;
  messageId: string;
  eventType: WebhookEventType;
  payload: string;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  url: string;
  /** The current secret, and the one it replaced while its grace period lasts: receivers on either verify. */
  secrets: string[];
  /** The request that caused the event: the delivery's log lines carry it. */
  requestId: string | null;
  /** The trace of the change that caused the event (W3C `traceparent`), when tracing was on: its sending joins that trace. */
  traceParent: string | null;
}

/** The outcome of one attempt, as recorded on the delivery. */
export interface AttemptRecord {
  responseStatus: number | null;
  latencyMs: number;
  error: string | null;
}

const ENDPOINT_COLUMNS = `id, url, description, events, status, failing_since AS "failingSince", last_error AS "lastError",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

const DELIVERY_COLUMNS = `id, endpoint_id AS "endpointId", org_id AS "orgId", event_id::text AS "eventId", event_type AS "eventType",
  message_id AS "messageId", status, attempts, CASE WHEN status = 'pending' THEN next_attempt_at END AS "nextAttemptAt",
  last_attempt_at AS "lastAttemptAt", response_status AS "responseStatus", latency_ms AS "latencyMs", last_error AS "lastError",
  redelivery_of AS "redeliveryOf", created_at AS "createdAt", delivered_at AS "deliveredAt"`;

/** After a rotation, deliveries carry a signature by the old secret too for this long, so receivers can switch without losing any. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3600 * 1000;

/** One answer for an endpoint that does not exist, and for a delivery that is not the endpoint's. */
export const WEBHOOK_NOT_FOUND = 'No such webhook.';
export const DELIVERY_NOT_FOUND = 'No such delivery.';

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64. Shown once, stored sealed. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * The one owner of `webhook_endpoints` and `webhook_deliveries`. Deliveries are an outbox, written
 * (`writeDeliveries`) in the transaction of the organization event that causes them, so none is
 * lost; this store also reads them, records attempts and makes redeliveries. Signing secrets are
 * sealed with SECRETS_KEY. Writes of attempts only touch `pending` deliveries, so a job that runs
 * twice converges.
 */
export class WebhookStore {
  /**
   * One pending delivery of an event per endpoint subscribed to its type, in `db`'s transaction
   * (the organization store's, so an event that rolls back has none), in endpoint order; each
   * insert NOTIFYs the worker on commit (the trigger of migrations/control/1732740000000-Webhooks.ts).
   * Each remembers the active trace, if any. Static: writing needs no signing secret, and the
   * caller's transaction is not this store's.
   */
  static async writeDeliveries(db: EntityManager, event: { orgId: string; eventId: string; type: WebhookEventType; payload: string }): Promise<void> {
    await db.query(
      `INSERT INTO webhook_deliveries (endpoint_id, org_id, event_id, event_type, message_id, payload, trace_parent)
       SELECT id, $1, $2::bigint, $3::text, 'msg_' || $2::bigint, $4, $5 FROM webhook_endpoints WHERE events @> ARRAY[$3::text] ORDER BY id`,
      [event.orgId, event.eventId, event.type, event.payload, currentTraceParent() ?? null],
    );
  }

  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  async create(endpoint: {
    url: string;
    description: string | null;
    events: readonly WebhookEventType[];
  }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const id = randomUUID();
    const secret = newSigningSecret();
    const [row] = await this.dataSource.query(
      `INSERT INTO webhook_endpoints (id, url, description, events, secret_sealed) VALUES ($1, $2, $3, $4, $5) RETURNING ${ENDPOINT_COLUMNS}`,
      [id, endpoint.url, endpoint.description, endpoint.events, this.box.seal(secret)],
    );
    return { endpoint: row, secret };
  }

  async get(id: string): Promise<WebhookEndpoint> {
    const [row] = await this.dataSource.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(WEBHOOK_NOT_FOUND);
    return row;
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async list(page: PageQuery): Promise<KeysetPage<WebhookEndpoint>> {
    const params: unknown[] = [page.limit + 1];
    let where = '';
    if (page.after) {
      where = 'WHERE (created_at, id) < ($2, $3)';
      params.push(page.after.createdAt, page.after.id);
    }
    const rows = await this.dataSource.query(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ${where} ORDER BY created_at DESC, id DESC LIMIT $1`, params);
    return keysetPage(rows, page.limit);
  }

  /** A new URL makes the endpoint's pending deliveries due at once: the receiver that was failing may be the one now named. */
  async update(id: string, changes: { url?: string; description?: string | null; events?: readonly WebhookEventType[] }): Promise<WebhookEndpoint> {
    // One statement: the endpoint as changed, its pending deliveries woken when the URL is new.
    const [row] = await this.dataSource.query(
      `WITH updated AS (
         UPDATE webhook_endpoints
            SET url = coalesce($2, url), events = coalesce($3, events),
                description = CASE WHEN $4 THEN $5 ELSE description END, updated_at = now()
          WHERE id = $1
          RETURNING ${ENDPOINT_COLUMNS}),
       woken AS (
         UPDATE webhook_deliveries SET next_attempt_at = now()
          WHERE $6 AND endpoint_id IN (SELECT id FROM updated) AND status = 'pending')
       SELECT * FROM updated`,
      [id, changes.url ?? null, changes.events ?? null, changes.description !== undefined, changes.description ?? null, changes.url !== undefined],
    );
    if (!row) throw new NotFoundError(WEBHOOK_NOT_FOUND);
    return row;
  }

  /** Deletes the endpoint and its deliveries: nothing more is sent to it. */
  async remove(id: string): Promise<void> {
    const [, affected] = await this.dataSource.query(`DELETE FROM webhook_endpoints WHERE id = $1`, [id]);
    if (affected === 0) throw new NotFoundError(WEBHOOK_NOT_FOUND);
  }

  /** A new secret; the old one still signs (beside it) for PREVIOUS_SECRET_GRACE_MS. */
  async rotateSecret(id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = newSigningSecret();
    const [row] = returnedRows<WebhookEndpoint>(
      await this.dataSource.query(
        `UPDATE webhook_endpoints
          SET previous_secret_sealed = secret_sealed, previous_secret_expires_at = now() + ($3::float8 * interval '1 millisecond'),
              secret_sealed = $2, updated_at = now()
        WHERE id = $1
        RETURNING ${ENDPOINT_COLUMNS}`,
        [id, this.box.seal(secret), PREVIOUS_SECRET_GRACE_MS],
      ),
    );
    if (!row) throw new NotFoundError(WEBHOOK_NOT_FOUND);
    return { endpoint: row, secret };
  }

  /** The endpoint's deliveries, newest first, keyset-paginated on (created_at, id); optionally of one status. */
  async deliveries(endpointId: string, filter: PageQuery & { status?: WebhookDeliveryStatus }): Promise<KeysetPage<WebhookDelivery>> {
    const params: unknown[] = [endpointId, filter.limit + 1];
    const where = ['endpoint_id = $1'];
    if (filter.status) {
      params.push(filter.status);
      where.push(`status = $${params.length}`);
    }
    if (filter.after) {
      params.push(filter.after.createdAt, filter.after.id);
      where.push(`(created_at, id) < ($${params.length - 1}, $${params.length})`);
    }
    const rows = await this.dataSource.query(
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT $2`,
      params,
    );
    // Deliveries go with their endpoint (ON DELETE CASCADE): only an empty page can be of one that does not exist (404).
    if (rows.length === 0) await this.get(endpointId);
    return keysetPage(rows, filter.limit);
  }

  /**
   * Sends a delivery's event again: a new pending delivery with the same payload and `webhook-id`
   * (receivers that already have it can tell), after whatever its lane still has to send.
   */
  async redeliver(endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
    const [row] = await this.dataSource.query(
      `INSERT INTO webhook_deliveries (endpoint_id, org_id, event_id, event_type, message_id, payload, redelivery_of)
       SELECT endpoint_id, org_id, event_id, event_type, message_id, payload, id FROM webhook_deliveries WHERE id = $1 AND endpoint_id = $2
       RETURNING ${DELIVERY_COLUMNS}`,
      [deliveryId, endpointId],
    );
    if (!row) throw new NotFoundError(DELIVERY_NOT_FOUND);
    return row;
  }

  /** The oldest pending delivery of one lane (endpoint × organization), or none. */
  async nextInLane(endpointId: string, orgId: string): Promise<DueDelivery | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT d.id, d.message_id AS "messageId", d.event_type AS "eventType", d.payload, d.attempts, d.created_at AS "createdAt",
              d.next_attempt_at AS "nextAttemptAt", d.payload::jsonb #>> '{data,request_id}' AS "requestId",
              d.trace_parent AS "traceParent", e.url, e.secret_sealed AS "secretSealed",
              CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret_sealed END AS "previousSecretSealed"
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.endpoint_id = $1 AND d.org_id = $2 AND d.status = 'pending'
        ORDER BY d.seq LIMIT 1`,
      [endpointId, orgId],
    );
    if (!row) return undefined;
    const { secretSealed, previousSecretSealed, ...due } = row;
    const secrets = [this.box.open(secretSealed), ...(previousSecretSealed ? [this.box.open(previousSecretSealed)] : [])];
    return { ...due, secrets };
  }

  /** Delivered: the endpoint answered 2xx. An endpoint that was failing is active again (one statement: it runs per delivery). */
  async recordDelivered(delivery: Pick<DueDelivery, 'id'>, endpointId: string, attempt: AttemptRecord): Promise<void> {
    await this.dataSource.query(
      `WITH delivered AS (
         UPDATE webhook_deliveries
            SET status = 'delivered', attempts = attempts + 1, last_attempt_at = now(), delivered_at = now(),
                response_status = $3, latency_ms = $4, last_error = NULL
          WHERE id = $1 AND status = 'pending')
       UPDATE webhook_endpoints SET status = 'active', failing_since = NULL, last_error = NULL, updated_at = now() WHERE id = $2 AND status = 'failing'`,
      [delivery.id, endpointId, attempt.responseStatus, Math.round(attempt.latencyMs)],
    );
  }

  /** A failed attempt with time left: tried again at `nextAttemptAt`. */
  async recordRetry(delivery: Pick<DueDelivery, 'id'>, attempt: AttemptRecord, nextAttemptAt: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1, last_attempt_at = now(), response_status = $2, latency_ms = $3, last_error = $4, next_attempt_at = $5
        WHERE id = $1 AND status = 'pending'`,
      [delivery.id, attempt.responseStatus, Math.round(attempt.latencyMs), attempt.error, nextAttemptAt],
    );
  }

  /** Out of time: the delivery has failed and its endpoint is `failing` (since the first such failure). */
  async recordFailed(delivery: Pick<DueDelivery, 'id'>, endpointId: string, attempt: AttemptRecord): Promise<void> {
    await this.dataSource.query(
      `WITH failed AS (
         UPDATE webhook_deliveries
            SET status = 'failed', attempts = attempts + 1, last_attempt_at = now(), response_status = $3, latency_ms = $4, last_error = $5
          WHERE id = $1 AND status = 'pending')
       UPDATE webhook_endpoints SET status = 'failing', failing_since = coalesce(failing_since, now()), last_error = $5, updated_at = now() WHERE id = $2`,
      [delivery.id, endpointId, attempt.responseStatus, Math.round(attempt.latencyMs), attempt.error],
    );
  }

  /** Lanes with pending deliveries, the longest waiting first, and whether one is due now: what the sweep hands to the queue. */
  async pendingLanes(limit = 1000): Promise<{ endpointId: string; orgId: string; due: boolean }[]> {
    return this.dataSource.query(
      `SELECT endpoint_id AS "endpointId", org_id AS "orgId", min(next_attempt_at) <= now() AS due FROM webhook_deliveries WHERE status = 'pending'
        GROUP BY endpoint_id, org_id ORDER BY min(next_attempt_at) LIMIT $1`,
      [limit],
    );
  }

  /** Deletes up to `limit` finished (delivered or failed) deliveries older than `retentionMs`; how many it deleted. */
  async pruneFinished(retentionMs: number, limit = 1000): Promise<number> {
    const [, deleted] = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
          WHERE status <> 'pending' AND created_at < now() - ($1::float8 * interval '1 millisecond')
          ORDER BY created_at LIMIT $2)`,
      [retentionMs, limit],
    );
    return deleted;
  }

  async hasPending(endpointId: string, orgId: string): Promise<boolean> {
    const [row] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM webhook_deliveries WHERE endpoint_id = $1 AND org_id = $2 AND status = 'pending') AS pending`,
      [endpointId, orgId],
    );
    return row.pending;
  }
}
