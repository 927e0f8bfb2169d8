import { ORGANIZATION_STATUSES } from '@orgms/common/organizations/organization-status';
import { WEBHOOK_EVENT_TYPES } from '@orgms/common/webhooks/webhook-events';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_ENDPOINT_STATUSES } from '@orgms/common/webhooks/webhook-store';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, nullableDateTime, uuid } from '../openapi/shapes';
import { organization } from '../organizations/organizations.responses';

const webhookEventType = { type: 'string', enum: WEBHOOK_EVENT_TYPES, examples: ['organization.active'] } as const;

const webhookEndpointProperties = {
  id: uuid,
  url: { type: 'string', format: 'uri', examples: ['https://hooks.example.com/orgms'] },
  description: { type: ['string', 'null'], examples: ['Billing system'] },
  events: { type: 'array', items: webhookEventType, minItems: 1, examples: [['organization.created', 'organization.active']] },
  status: {
    type: 'string',
    enum: WEBHOOK_ENDPOINT_STATUSES,
    description: '`failing` once a delivery ran out of retries (WEBHOOK_MAX_AGE_MS); a later successful delivery makes it `active` again.',
  },
  failing_since: { ...nullableDateTime, description: 'When it became `failing`.' },
  last_error: { type: ['string', 'null'], description: 'Why the delivery that made it `failing` failed.', examples: ['HTTP 503'] },
  created_at: dateTime,
  updated_at: dateTime,
} as const;

const webhookEndpointRequired = ['id', 'url', 'description', 'events', 'status', 'failing_since', 'last_error', 'created_at', 'updated_at'] as const;

export const webhookEndpoint = {
  type: 'object',
  description: 'A webhook endpoint: where events are POSTed, signed per Standard Webhooks. Its signing secret is never shown again after creation or rotation.',
  additionalProperties: false,
  required: webhookEndpointRequired,
  properties: webhookEndpointProperties,
} as const satisfies JSONSchema;

export const webhookEndpointWithSecret = {
  type: 'object',
  description: 'A webhook endpoint with its signing secret, shown this once: verify deliveries with it (any Standard Webhooks library).',
  additionalProperties: false,
  required: [...webhookEndpointRequired, 'secret'],
  properties: {
    ...webhookEndpointProperties,
    secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]+=*$', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
  },
} as const satisfies JSONSchema;

export const webhookEndpointList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: webhookEndpoint }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export const webhookDelivery = {
  type: 'object',
  description:
    'One event sent to one endpoint: `pending` (being tried; `next_attempt_at` says when), `delivered` (a 2xx) or `failed` (out of retries). ' +
    'The response code and latency are those of the last attempt.',
  additionalProperties: false,
  required: [
    'id',
    'event_id',
    'event_type',
    'organization_id',
    'message_id',
    'status',
    'attempts',
    'response_status',
    'latency_ms',
    'last_error',
    'next_attempt_at',
    'redelivery_of',
    'created_at',
    'last_attempt_at',
    'delivered_at',
  ],
  properties: {
    id: uuid,
    event_id: { type: 'string', pattern: '^[0-9]+$', description: 'The organization event (as in the status stream).', examples: ['42'] },
    event_type: webhookEventType,
    organization_id: uuid,
    message_id: { type: 'string', description: 'The `webhook-id` header: the same for every attempt and redelivery of the event.', examples: ['msg_42'] },
    status: { type: 'string', enum: WEBHOOK_DELIVERY_STATUSES },
    attempts: { type: 'integer', minimum: 0, examples: [1] },
    response_status: { type: ['integer', 'null'], description: "The last attempt's HTTP status (null: no answer).", examples: [200] },
    latency_ms: { type: ['integer', 'null'], minimum: 0, description: "The last attempt's duration, request to the answer's last byte.", examples: [38] },
    last_error: { type: ['string', 'null'], examples: ['no complete answer within 10000 ms'] },
    next_attempt_at: { ...nullableDateTime, description: 'When the next attempt is due, while `pending`.' },
    redelivery_of: { type: ['string', 'null'], format: 'uuid', description: 'The delivery this one sends again (`POST …/redeliver`).' },
    created_at: dateTime,
    last_attempt_at: nullableDateTime,
    delivered_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const webhookDeliveryList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: webhookDelivery }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export const webhookEvent = {
  type: 'object',
  description: 'The body of every webhook (Standard Webhooks: `type`, `timestamp`, `data`).',
  additionalProperties: false,
  required: ['type', 'timestamp', 'data'],
  properties: {
    type: webhookEventType,
    timestamp: { ...dateTime, description: 'When the event happened.' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['event_id', 'organization', 'previous_status', 'request_id'],
      properties: {
        event_id: { type: 'string', pattern: '^[0-9]+$', description: "The organization event's id: increasing per organization.", examples: ['42'] },
        organization: { ...organization, description: 'The organization as `GET /organizations/{id}` would have answered in the transaction of the event.' },
        previous_status: {
          type: ['string', 'null'],
          enum: [...ORGANIZATION_STATUSES, null],
          description: 'The status before (null for `organization.created`).',
        },
        request_id: {
          type: ['string', 'null'],
          description: 'The request that caused it (its `X-Request-Id`).',
          examples: ['0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980'],
        },
      },
    },
  },
} as const satisfies JSONSchema;

export type WebhookEndpointBody = FromSchema<typeof webhookEndpoint>;
export type WebhookEndpointWithSecretBody = FromSchema<typeof webhookEndpointWithSecret>;
export type WebhookEndpointListBody = FromSchema<typeof webhookEndpointList>;
export type WebhookDeliveryBody = FromSchema<typeof webhookDelivery>;
export type WebhookDeliveryListBody = FromSchema<typeof webhookDeliveryList>;
