import type { WebhookDelivery, WebhookEndpoint } from '@orgms/common/webhooks/webhook-store';
import type { Page } from '../http/pagination';
import { isoOrNull } from '../http/timestamps';
import type {
  WebhookDeliveryBody,
  WebhookDeliveryListBody,
  WebhookEndpointBody,
  WebhookEndpointListBody,
  WebhookEndpointWithSecretBody,
} from './webhooks.responses';
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

/** One endpoint as stored, from which the API document's webhook examples are rendered by the presenters above. */
const billing: WebhookEndpoint = {
  id: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d',
  url: 'https://hooks.example.com/orgms',
  description: 'Billing system',
  events: ['organization.created', 'organization.active'],
  status: 'active',
  failingSince: null,
  lastError: null,
  createdAt: new Date('2026-12-05T04:00:00.000Z'),
  updatedAt: new Date('2026-12-05T04:00:00.000Z'),
};
const updatedAt = new Date('2026-12-05T05:00:00.000Z');

/** The document's examples of a webhook endpoint (components.examples), so they cannot drift from the answers. */
export const webhookExamples = {
  CreatedWebhookEndpoint: presentWebhookEndpointWithSecret({
    endpoint: { ...billing, events: [...billing.events, 'organization.failed'] },
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  }),
  WebhookEndpointPage: presentWebhookEndpointPage({ items: [billing], nextCursor: null }),
  FailingWebhookEndpoint: presentWebhookEndpoint({
    ...billing,
    status: 'failing',
    failingSince: new Date('2026-12-06T04:00:00.000Z'),
    lastError: 'HTTP 503',
    updatedAt: new Date('2026-12-06T04:00:00.000Z'),
  }),
  UpdatedWebhookEndpoint: presentWebhookEndpoint({ ...billing, events: [...billing.events, 'organization.deleted'], updatedAt }),
  RotatedWebhookEndpoint: presentWebhookEndpointWithSecret({ endpoint: { ...billing, updatedAt }, secret: 'whsec_3oZ1bCk7mAr0ZK5wXKa5Q3qJmB3qv8Yd' }),
};

/** One delivery as stored, delivered on its second attempt, from which the delivery examples are rendered above. */
const delivered: WebhookDelivery = {
  id: '0c1d2e3f-4a5b-4c6d-8e7f-8a9b0c1d2e3f',
  endpointId: billing.id,
  orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  eventId: '42',
  eventType: 'organization.active',
  messageId: 'msg_42',
  status: 'delivered',
  attempts: 2,
  nextAttemptAt: null,
  lastAttemptAt: new Date('2026-12-05T04:00:06.100Z'),
  responseStatus: 200,
  latencyMs: 38,
  lastError: null,
  redeliveryOf: null,
  createdAt: new Date('2026-12-05T04:00:01.000Z'),
  deliveredAt: new Date('2026-12-05T04:00:06.140Z'),
};
const redeliveredAt = new Date('2026-12-05T05:00:00.000Z');

/** The document's examples of deliveries (components.examples), so they cannot drift from the answers. */
export const webhookDeliveryExamples = {
  WebhookDeliveryPage: presentWebhookDeliveryPage({ items: [delivered], nextCursor: null }),
  PendingRedelivery: presentWebhookDelivery({
    ...delivered,
    id: '1d2e3f4a-5b6c-4d7e-8f9a-0b1c2d3e4f5a',
    status: 'pending',
    attempts: 0,
    nextAttemptAt: redeliveredAt,
    lastAttemptAt: null,
    responseStatus: null,
    latencyMs: null,
    redeliveryOf: delivered.id,
    createdAt: redeliveredAt,
    deliveredAt: null,
  }),
};
