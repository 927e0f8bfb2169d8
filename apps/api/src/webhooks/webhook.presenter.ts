import type { WebhookDelivery, WebhookEndpoint } from '@orgms/common/webhooks/webhook-store';
import type { Page } from '../http/pagination';
import { isoOrNull } from '../http/timestamps';
import type {
  WebhookDeliveryBody,
  WebhookDeliveryListBody,
  WebhookEndpointBody,
  WebhookEndpointListBody,
  WebhookEndpointWithSecretBody,
} from '../openapi/response-schemas';
import type { WebhookEndpointWithSecret } from './webhooks.service';

export function presentWebhookEndpoint(endpoint: WebhookEndpoint): WebhookEndpointBody {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description,
    events: endpoint.events,
    status: endpoint.status,
    failing_since: isoOrNull(endpoint.failingSince),
    last_error: endpoint.lastError,
    created_at: new Date(endpoint.createdAt).toISOString(),
    updated_at: new Date(endpoint.updatedAt).toISOString(),
  };
}

export function presentWebhookEndpointWithSecret({ endpoint, secret }: WebhookEndpointWithSecret): WebhookEndpointWithSecretBody {
  return { ...presentWebhookEndpoint(endpoint), secret };
}

export function presentWebhookEndpointPage(page: Page<WebhookEndpoint>): WebhookEndpointListBody {
  return { items: page.items.map(presentWebhookEndpoint), next_cursor: page.nextCursor };
}

export function presentWebhookDelivery(delivery: WebhookDelivery): WebhookDeliveryBody {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    organization_id: delivery.orgId,
    message_id: delivery.messageId,
    status: delivery.status,
    attempts: delivery.attempts,
    response_status: delivery.responseStatus,
    latency_ms: delivery.latencyMs,
    last_error: delivery.lastError,
    next_attempt_at: isoOrNull(delivery.nextAttemptAt),
    redelivery_of: delivery.redeliveryOf,
    created_at: new Date(delivery.createdAt).toISOString(),
    last_attempt_at: isoOrNull(delivery.lastAttemptAt),
    delivered_at: isoOrNull(delivery.deliveredAt),
  };
}

export function presentWebhookDeliveryPage(page: Page<WebhookDelivery>): WebhookDeliveryListBody {
  return { items: page.items.map(presentWebhookDelivery), next_cursor: page.nextCursor };
}
