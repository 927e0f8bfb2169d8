import type { WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookStore } from '@orgms/common/control-plane/webhook-store';
import { ValidationError } from '@orgms/common/errors';
import type { PageQuery } from '@orgms/common/keyset-page';
import type { WebhookEventType } from '@orgms/common/webhooks/webhook-events';
import { RefusedWebhookUrl, type Resolve, resolveWebhookTarget } from '@orgms/common/webhooks/webhook-targets';
import { type Page, withCursor } from './pagination';

export interface WebhooksDeps {
  store: WebhookStore;
  /** WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** The host name resolver (node's by default). */
  resolve?: Resolve;
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
    return this.deps.store.create(input);
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
    return this.deps.store.update(id, changes);
  }

  remove(id: string): Promise<void> {
    return this.deps.store.remove(id);
  }

  rotateSecret(id: string): Promise<WebhookEndpointWithSecret> {
    return this.deps.store.rotateSecret(id);
  }

  async deliveries(id: string, filter: PageQuery & { status?: WebhookDeliveryStatus }): Promise<Page<WebhookDelivery>> {
    return withCursor(await this.deps.store.deliveries(id, filter));
  }

  redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    return this.deps.store.redeliver(id, deliveryId);
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
