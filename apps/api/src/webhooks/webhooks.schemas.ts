import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '@orgms/common/webhooks/webhook-events';
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryStatus } from '@orgms/common/webhooks/webhook-store';
import Joi from 'joi';
import { type Page, paginationQuery, requestShape, uuid } from '../http/common.schemas';

/** An http(s) URL without credentials in it (they would be shown in every answer); where it may point is the service's check. */
const webhookUrl = Joi.string()
  .trim()
  .max(2000)
  .uri({ scheme: ['http', 'https'] })
  .custom((value: string, helpers) => {
    const url = new URL(value);
    return url.username || url.password ? helpers.error('string.credentials') : value;
  })
  .messages({ 'string.credentials': '{{#label}} must not contain a user name or password' })
  .description(
    'Where events are POSTed. It must resolve to public addresses only (not private, loopback, link-local…) unless WEBHOOK_ALLOW_PRIVATE is true, ' +
      'which still refuses link-local and cloud metadata addresses (169.254.169.254, fd00:ec2::254) in any spelling; ' +
      'checked again before every delivery.',
  )
  .example('https://hooks.example.com/orgms');

const events = Joi.array()
  .items(Joi.string().valid(...WEBHOOK_EVENT_TYPES))
  .min(1)
  .unique()
  .description('The events to receive (`organization.created`, `organization.<status>`, `organization.renamed`).')
  .example(['organization.created', 'organization.active', 'organization.failed']);

const description = Joi.string()
  .trim()
  .max(500)
  .pattern(/^[^\p{C}]*$/u)
  .messages({ 'string.pattern.base': '{{#label}} must not contain control characters' })
  .description('For the people who manage it.')
  .example('Billing system');

export interface NewWebhookBody {
  url: string;
  events: WebhookEventType[];
  description?: string | null;
}

export const createWebhookBody = requestShape<NewWebhookBody>({
  url: webhookUrl.required(),
  events: events.required(),
  description: description.allow(null),
});

export interface WebhookChangesBody {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
}

export const updateWebhookBody = requestShape<WebhookChangesBody>({
  url: webhookUrl,
  events,
  description: description.allow(null).description('null removes it.'),
}).min(1);

export interface DeliveryParams {
  id: string;
  deliveryId: string;
}

export const deliveryParams = requestShape<DeliveryParams>({ id: uuid.required(), deliveryId: uuid.required() });

export interface ListDeliveriesQuery extends Page {
  status?: WebhookDeliveryStatus;
}

export const listDeliveriesQuery = requestShape<ListDeliveriesQuery>({
  ...paginationQuery,
  status: Joi.string()
    .valid(...WEBHOOK_DELIVERY_STATUSES)
    .description('Only deliveries in this status.'),
});

export const listWebhooksQuery = requestShape<Page>(paginationQuery);
