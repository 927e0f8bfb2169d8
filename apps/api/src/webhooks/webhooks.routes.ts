import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { pageQuery } from '../http/pagination';
import { validate, validated } from '../http/validate';
import { type Authentication, requireRole } from '../sign-in/authenticate';
import {
  presentWebhookDelivery,
  presentWebhookDeliveryPage,
  presentWebhookEndpoint,
  presentWebhookEndpointPage,
  presentWebhookEndpointWithSecret,
} from './webhook.presenter';
import { createWebhookBody, deliveryParams, listDeliveriesQuery, listWebhooksQuery, updateWebhookBody } from './webhooks.schemas';
import type { WebhooksService } from './webhooks.service';

/**
 * @openapi
 * tags: [{ name: Webhooks }]
 * /webhooks:
 *   post:
 *     summary: Register a webhook endpoint
 *     description: |
 *       Platform admins only. Events of every organization (`organization.created`, `organization.<status>` for each later
 *       status, `organization.renamed`) are POSTed to `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
 *       `webhook-signature`) with the `secret` in the answer, which is shown this once. The URL must resolve to public addresses
 *       only (400 naming `body.url` otherwise) unless WEBHOOK_ALLOW_PRIVATE is true; link-local and cloud metadata addresses
 *       (169.254.169.254, fd00:ec2::254, and IPv6 forms embedding them) are refused either way. See the WebhookEvent schema for the body.
 *     requestBody: { $ref: '#/components/requestBodies/NewWebhook' }
 *     x-problems: [Forbidden]
 *     responses:
 *       '201': { $ref: '#/components/responses/WebhookEndpointCreated' }
 *   get:
 *     summary: List webhook endpoints
 *     description: Platform admins only. Newest first; secrets are never listed.
 *     parameters: [{ $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden]
 *     responses:
 *       '200': { $ref: '#/components/responses/WebhookEndpointPage' }
 * /webhooks/{id}:
 *   parameters: [{ $ref: '#/components/parameters/WebhookId' }]
 *   get:
 *     summary: Read one webhook endpoint
 *     description: Platform admins only. `status` is `failing` (with `failing_since` and `last_error`) once a delivery ran out of retries.
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/WebhookEndpoint' }
 *   patch:
 *     summary: Change a webhook endpoint's URL, events or description
 *     description: Platform admins only. A new URL is checked like a new endpoint's. Deliveries still pending go to the new URL.
 *     requestBody: { $ref: '#/components/requestBodies/WebhookChanges' }
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/UpdatedWebhookEndpoint' }
 *   delete:
 *     summary: Delete a webhook endpoint
 *     description: Platform admins only. Nothing more is sent to it, pending deliveries included; its delivery history goes with it.
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '204': { description: Deleted. }
 * /webhooks/{id}/rotate-secret:
 *   post:
 *     summary: Rotate a webhook endpoint's signing secret
 *     description: |
 *       Platform admins only. Answers the new secret, shown this once. For 24 hours deliveries carry two signatures in
 *       `webhook-signature`, by the new and the old secret, so a receiver verifies with either while it switches.
 *     parameters: [{ $ref: '#/components/parameters/WebhookId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/RotatedWebhookEndpoint' }
 * /webhooks/{id}/deliveries:
 *   get:
 *     summary: List a webhook endpoint's deliveries
 *     description: Platform admins only. Newest first, with each delivery's status, attempts, last response code and latency.
 *     parameters: [{ $ref: '#/components/parameters/WebhookId' }, { $ref: '#/components/parameters/DeliveryStatusFilter' }, { $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/WebhookDeliveryPage' }
 * /webhooks/{id}/deliveries/{deliveryId}/redeliver:
 *   post:
 *     summary: Send a delivery's event again
 *     description: |
 *       Platform admins only. A new pending delivery of the same event, with the same body and `webhook-id`, sent after whatever
 *       its lane (this endpoint and that organization) still has to send. 404 for a delivery of another endpoint.
 *     parameters: [{ $ref: '#/components/parameters/WebhookId' }, { $ref: '#/components/parameters/DeliveryId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '202': { $ref: '#/components/responses/WebhookRedelivery' }
 */
export function webhooksRoutes(deps: { authentication: Authentication; webhooks: WebhooksService }): Router {
  const { webhooks } = deps;
  const router = Router();
  const platformAdmin = [deps.authentication.required, requireRole('platform_admin')];

  router.post('/webhooks', ...platformAdmin, validate({ body: createWebhookBody }), async (_req, res) => {
    const body = validated(res, createWebhookBody);
    const created = await webhooks.create({ url: body.url, events: body.events, description: body.description ?? null });
    res.status(201).location(`/webhooks/${created.endpoint.id}`).json(presentWebhookEndpointWithSecret(created));
  });

  router.get('/webhooks', ...platformAdmin, validate({ query: listWebhooksQuery }), async (_req, res) => {
    res.json(presentWebhookEndpointPage(await webhooks.list(pageQuery(validated(res, listWebhooksQuery)))));
  });

  router.get('/webhooks/:id', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    res.json(presentWebhookEndpoint(await webhooks.get(validated(res, idParams).id)));
  });

  router.patch('/webhooks/:id', ...platformAdmin, validate({ params: idParams, body: updateWebhookBody }), async (_req, res) => {
    const body = validated(res, updateWebhookBody);
    res.json(presentWebhookEndpoint(await webhooks.update(validated(res, idParams).id, body)));
  });

  router.delete('/webhooks/:id', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    await webhooks.remove(validated(res, idParams).id);
    res.status(204).end();
  });

  router.post('/webhooks/:id/rotate-secret', ...platformAdmin, validate({ params: idParams }), async (_req, res) => {
    res.json(presentWebhookEndpointWithSecret(await webhooks.rotateSecret(validated(res, idParams).id)));
  });

  router.get('/webhooks/:id/deliveries', ...platformAdmin, validate({ params: idParams, query: listDeliveriesQuery }), async (_req, res) => {
    const query = validated(res, listDeliveriesQuery);
    const page = await webhooks.deliveries(validated(res, idParams).id, { ...pageQuery(query), status: query.status });
    res.json(presentWebhookDeliveryPage(page));
  });

  router.post('/webhooks/:id/deliveries/:deliveryId/redeliver', ...platformAdmin, validate({ params: deliveryParams }), async (_req, res) => {
    const { id, deliveryId } = validated(res, deliveryParams);
    res.status(202).json(presentWebhookDelivery(await webhooks.redeliver(id, deliveryId)));
  });

  return router;
}
