import type { Logger } from '@orgms/common/logger';
import { type Response, Router } from 'express';
import { principalOf, requireRole } from '../auth/authenticate';
import { retryAfter } from '../http/retry-after';
import { streamOrganizationStatus } from '../http/status-stream';
import { type RequestSchemas, validate, validated } from '../http/validate';
import { presentOrganization } from '../presenters/organization.presenter';
import { idParams } from '../validation/common.schemas';
import { updateOrganizationBody } from '../validation/lifecycle.schemas';
import type { OrganizationRouteDeps } from './organizations.routes';

/** The same hint as GET /organizations/:id gives while the worker is busy. */
function accepted(res: Response, id: string): Response {
  return retryAfter(res.status(202).location(`/organizations/${id}`));
}

/**
 * An organization after its creation: rename, delete, retry, and its status changes as they
 * happen (SSE). PATCH, DELETE and GET …/events admit platform admins and that organization's own
 * admins (DESIGN §5, auth/authorize-organization.ts); retry re-runs infrastructure work, so it
 * stays platform-admin only.
 */
/**
 * @openapi
 * /organizations/{id}:
 *   patch:
 *     tags: [Lifecycle]
 *     summary: Rename an organization or change its admin email
 *     description: |
 *       Platform admins, or an admin of this organization. Changes the display name (and its slug) and/or the admin
 *       contact email. The database name is derived from the immutable id, so a rename never moves data. Names are
 *       unique among live organizations (409 when taken). Refused with 409 (`current_status`) once deletion started.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     requestBody:
 *       required: true
 *       content: { application/json: { schema: { $ref: '#/components/schemas/OrganizationChanges' } } }
 *     responses:
 *       '200': { description: The updated organization., content: { application/json: { schema: { $ref: '#/components/schemas/Organization' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '413': { $ref: '#/components/responses/PayloadTooLarge' }
 *       '415': { $ref: '#/components/responses/UnsupportedMediaType' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 *   delete:
 *     tags: [Lifecycle]
 *     summary: Delete an organization and its database (asynchronously)
 *     description: |
 *       Platform admins, or an admin of this organization. The organization becomes `deleting` at once; the worker then
 *       evicts every API replica's pools for it, drops its database (ending remaining connections) and leaves a `deleted`
 *       tombstone that stays readable. Its name is free again at once. Sending DELETE again while `deleting` is accepted;
 *       on a `deleted` organization it is a 409 (`current_status`).
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     responses:
 *       '202':
 *         description: Deletion accepted; follow `Location` (or the events stream) until `deleted`.
 *         headers:
 *           Location: { $ref: '#/components/headers/OrganizationLocation' }
 *           Retry-After: { $ref: '#/components/headers/RetryAfterWhileInProgress' }
 *         content: { application/json: { schema: { $ref: '#/components/schemas/Organization' } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 * /organizations/{id}/retry:
 *   post:
 *     tags: [Lifecycle]
 *     summary: Retry the provisioning of a failed organization
 *     description: |
 *       Platform admins only. Moves a `failed` organization back to `provisioning` and enqueues its provisioning again.
 *       A database left half-made by the failed attempt is adopted (it carries our marker) or rebuilt, never leaked.
 *       409 (`current_status`) unless the organization is `failed`.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     responses:
 *       '202':
 *         description: Retry accepted.
 *         headers:
 *           Location: { $ref: '#/components/headers/OrganizationLocation' }
 *           Retry-After: { $ref: '#/components/headers/RetryAfterWhileInProgress' }
 *         content: { application/json: { schema: { $ref: '#/components/schemas/Organization' } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 * /organizations/{id}/events:
 *   get:
 *     tags: [Lifecycle]
 *     summary: Stream status changes (Server-Sent Events)
 *     description: |
 *       Platform admins, or an admin of this organization. A `text/event-stream` of `status` events
 *       (`data: {"id","status","step","detail","at"}`, `id:` the event id). The first event is the current status; the
 *       stream ends once the organization is `active`, `failed` or `deleted`. Reconnect with `Last-Event-ID` to receive
 *       the events you missed. Works across API replicas (fed by Redis pub/sub).
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/LastEventId' }]
 *     responses:
 *       '200':
 *         description: The event stream.
 *         content:
 *           text/event-stream:
 *             schema: { type: string }
 *             example: "id: 41\nevent: status\ndata: {\"id\":\"4f0c2a7e-9d1b-4c1e-8f00-1234567890ab\",\"status\":\"provisioning\",\"step\":\"migrate\",\"detail\":null,\"at\":\"2026-11-21T21:13:17.900Z\"}\n\n"
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 */
export function organizationChangesRoutes(deps: OrganizationRouteDeps & { logger: Logger }): Router {
  const { authentication, organizations } = deps;
  const router = Router();
  const platformAdmin = [authentication.required, requireRole('platform_admin'), validate({ params: idParams })];
  // One validate() per route: it stores all parts at once, so the body is validated here too.
  const orgAdmin = (schemas: RequestSchemas = { params: idParams }) => [authentication.required, validate(schemas), deps.authorize({ roles: ['org_admin'] })];
  const id = (res: Response) => validated(res, idParams).id;

  router.patch('/organizations/:id', ...orgAdmin({ params: idParams, body: updateOrganizationBody }), async (_req, res) => {
    const org = await organizations.update(id(res), validated(res, updateOrganizationBody), res.locals.requestId);
    res.json(presentOrganization(org));
  });

  router.delete('/organizations/:id', ...orgAdmin(), async (_req, res) => {
    const org = await organizations.delete(id(res), res.locals.requestId);
    accepted(res, org.id).json(presentOrganization(org));
  });

  router.post('/organizations/:id/retry', ...platformAdmin, async (_req, res) => {
    const org = await organizations.retry(id(res), res.locals.requestId);
    accepted(res, org.id).json(presentOrganization(org));
  });

  router.get('/organizations/:id/events', ...orgAdmin(), async (req, res) => {
    const principal = principalOf(res);
    await streamOrganizationStatus({ ...deps, stillAuthorized: () => authentication.stillValid(principal) }, req, res, id(res));
  });

  return router;
}
