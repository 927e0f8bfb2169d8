import { ValidationError } from '@orgms/common/errors';
import type { PageQuery } from '@orgms/common/keyset-page';
import type { WebhookEventType } from '@orgms/common/webhooks/webhook-events';
import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookStore } from '@orgms/common/webhooks/webhook-store';
import { RefusedWebhookUrl, type Resolve, resolveWebhookTarget } from '@orgms/common/webhooks/webhook-targets';
import type { AuditService } from '../audit/audit.service';
import { type Page, withCursor } from '../http/pagination';

export interface WebhooksDeps {
  store: WebhookStore;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** The host name resolver (node's by default). */
  resolve?: Resolve;
  audit: Pick<AuditService, 'recordAfter'>;
}

/** An endpoint as created or rotated: with its signing secret, which is shown this once. */
export interface WebhookEndpointWithSecret {
  endpoint: WebhookEndpoint;
  secret: string;
}

/**
 * Webhook endpoints as platform admins manage them (`/webhooks`). A URL is checked when it is
 * registered or changed (a 400 naming `body.url` when it may not be called), and the worker
 * checks it again before every delivery (apps/worker webhooks/webhook-sender.ts).
 */
export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  async create(input: { url: string; events: WebhookEventType[]; description: string | null }): Promise<WebhookEndpointWithSecret> {
    await this.assertCallable(input.url);
    const created = await this.deps.store.create(input);
    await this.audited('webhook.created', created.endpoint.id, { url: urlOrigin(input.url), events: input.events });
    return created;
  }

  async list(page: PageQuery): Promise<Page<WebhookEndpoint>> {
    return withCursor(await this.deps.store.list(page));
  }

  get(id: string): Promise<WebhookEndpoint> {
    return this.deps.store.get(id);
  }

  async update(id: string, changes: { url?: string; events?: WebhookEventType[]; description?: string | null }): Promise<WebhookEndpoint> {
    await this.deps.store.get(id);
    if (changes.url !== undefined) await this.assertCallable(changes.url);
    const updated = await this.deps.store.update(id, changes);
    await this.audited('webhook.updated', id, {
      changed: Object.keys(changes).filter((key) => changes[key as keyof typeof changes] !== undefined),
      url: urlOrigin(updated.url),
      events: updated.events,
    });
    return updated;
  }

  async remove(id: string): Promise<void> {
    await this.deps.store.remove(id);
    await this.audited('webhook.deleted', id, {});
  }

  async rotateSecret(id: string): Promise<WebhookEndpointWithSecret> {
    const rotated = await this.deps.store.rotateSecret(id);
    await this.audited('webhook.secret_rotated', id, {});
    return rotated;
  }

  async deliveries(id: string, filter: PageQuery & { status?: WebhookDeliveryStatus }): Promise<Page<WebhookDelivery>> {
    return withCursor(await this.deps.store.deliveries(id, filter));
  }

  redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.deps.store.redeliver(id, deliveryId);
  }

  /** Endpoints are platform-wide (no organization); recorded after the change, as its store writes it alone. */
  private audited(action: `webhook.${string}`, id: string, details: Record<string, unknown>): Promise<void> {
    return this.deps.audit.recordAfter({ action, target: { type: 'webhook', id }, details });
  }

  private async assertCallable(url: string): Promise<void> {
    try {
      await resolveWebhookTarget(url, { allowPrivate: this.deps.allowPrivate, resolve: this.deps.resolve });
    } catch (error) {
      if (!(error instanceof RefusedWebhookUrl)) throw error;
      const message = `url cannot be called: ${error.message}`;
      throw new ValidationError(`body.url: ${message}`, [{ field: 'body.url', message }]);
    }
  }
}

/** Only where an endpoint is: its path and query may carry a credential (many receivers put one there). */
function urlOrigin(url: string): string {
  return new URL(url).origin;
}
