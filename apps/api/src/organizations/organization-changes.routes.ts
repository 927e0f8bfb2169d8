import { ForbiddenError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import { type Response, Router } from 'express';
import { presentOrganizationArchiveList } from '../data-safety/organization-archive.presenter';
import { idParams } from '../http/common.schemas';
import { retryAfter } from '../http/retry-after';
import { streamOrganizationStatus } from '../http/status-stream';
import { type RequestSchemas, validate, validated } from '../http/validate';
import { principalOf, requireRole } from '../sign-in/authenticate';
import { deleteOrganizationQuery, restoreOrganizationBody, updateOrganizationBody } from './lifecycle.schemas';
import { presentOrganization } from './organization.presenter';
import { type OrganizationRouteDeps, refuseOperatorFields } from './organizations.routes';

/** The same hint as GET /organizations/:id gives while the worker is busy. */
function accepted(res: Response, id: string): Response {
  return retryAfter(res.status(202).location(`/organizations/${id}`));
}

/**
 * An organization after its creation: rename, delete, restore, retry, the archives its purge left,
 * and its status changes as they happen (SSE). PATCH, DELETE and GET …/events admit platform admins
 * and that organization's own admins (docs/api/auth-and-tokens.md, sign-in/authorize-organization.ts); purge, restore,
 * retry and archives act on infrastructure (or on an organization whose users are locked out), so
 * they are platform-admin only.
 */
/**
 * @openapi
 * tags: [{ name: Lifecycle }]
 * /organizations/{id}:
 *   patch:
 *     summary: Rename an organization, change its admin email, external id or metadata
 *     description: |
 *       Platform admins, or an admin of this organization. Changes the display name (and its slug) and/or the admin
 *       contact email. The database name is derived from the immutable id, so a rename never moves data. Names are
 *       unique among live organizations (409 when taken). Refused with 409 (`current_status`) once deletion started.
 *       Platform admins only (403 for others): `external_id` (null removes it; 409 with `field: external_id` when another
 *       organization has it) and `metadata`, merged into the current map as JSON Merge Patch does (a string sets its key,
 *       null removes it, keys not sent stay); a merged map over its limits is a 400 and nothing changes.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     requestBody: { $ref: '#/components/requestBodies/OrganizationChanges' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Organization', description: 'The updated organization.' }
 *   delete:
 *     summary: Delete an organization (its database is kept for a grace period)
 *     description: |
 *       Platform admins, or an admin of this organization. The organization becomes `deleted` at once: its users'
 *       logins and requests are refused (409 with `organization_status`), every API replica closes its pools, and its
 *       name is free again. Its database is kept until `purge_after` (ORG_DELETE_GRACE_MS, 7 days by default);
 *       until then `POST /organizations/{id}/restore` brings it back. When the grace period ends the worker archives the
 *       database (`pg_dump -Fc` into ARCHIVE_DIR, size and SHA-256 recorded), verifies the archive, and only then drops
 *       the database: the organization becomes `purged`. With `?purge=true` (platform admins only; 403 for others) that
 *       happens now: 202 and `purging`. Sending DELETE again changes nothing (200 with the organization as it is).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/Purge' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Organization', description: 'The organization, now `deleted` (or as it already was, when it had been deleted before).' }
 *       '202': { $ref: '#/components/responses/OrganizationAccepted', description: 'Purge accepted (`?purge=true`); follow `Location` (or the events stream) until `purged`.' }
 * /organizations/{id}/restore:
 *   post:
 *     summary: Restore a deleted organization within its grace period
 *     description: |
 *       Platform admins only. Brings a `deleted` organization (deleted while `active`) back to `active` with its database
 *       as it was. If its name has been taken since, the answer is 409 unless a new `organization_name` is given.
 *       409 (`current_status`) when it is not `deleted` (too late once `purging`; see `npm run org:restore` for archives).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     requestBody: { required: false, content: { application/json: { schema: { $ref: '#/components/schemas/OrganizationRestore' } } } }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Organization', description: 'The organization, active again.' }
 * /organizations/{id}/archives:
 *   get:
 *     summary: List the archives of an organization's purges
 *     description: |
 *       Platform admins only. Every archive recorded for the organization (dumps of kind archive), newest first: the
 *       `pg_dump -Fc` files its purge wrote into ARCHIVE_DIR before the database was dropped, with their recorded size and
 *       SHA-256, and `restore_command`, the `npm run org:restore` command that recreates the organization from the file
 *       (a new organization with a new id). Archives are kept until an operator removes them. Not paginated: every
 *       archive in one answer (an organization has a handful). Works for organizations in any status, `deleted` and
 *       `purged` included; one never purged answers an empty list.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     x-problems: [Forbidden, NotFound]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationArchives' }
 * /organizations/{id}/retry:
 *   post:
 *     summary: Retry the provisioning of a failed organization
 *     description: |
 *       Platform admins only. Moves a `failed` organization back to `provisioning` and enqueues its provisioning again.
 *       A database left half-made by the failed attempt is adopted (it carries our marker) or rebuilt, never leaked.
 *       409 (`current_status`) unless the organization is `failed`.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '202': { $ref: '#/components/responses/OrganizationAccepted', description: 'Retry accepted.' }
 * /organizations/{id}/events:
 *   get:
 *     summary: Stream status changes (Server-Sent Events)
 *     description: |
 *       Platform admins, or an admin of this organization. A `text/event-stream` of `status` events
 *       (`data: {"id","status","step","detail","at"}`, `id:` the event id). The first event is the current status; the
 *       stream ends once the organization is `active`, `failed` or `deleted`. Reconnect with `Last-Event-ID` to receive
 *       the events you missed. Works across API replicas (fed by Redis pub/sub).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/LastEventId' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/StatusStream' }
 */
export function organizationChangesRoutes(deps: OrganizationRouteDeps & { logger: Logger }): Router {
  const { authentication, organizations } = deps;
  const router = Router();
  const platformAdmin = [authentication.required, requireRole('platform_admin'), validate({ params: idParams })];
  // One validate() per route: it stores all parts at once, so the body is validated here too.
  const orgAdmin = (schemas: RequestSchemas = { params: idParams }) => [authentication.required, validate(schemas), deps.authorize({ roles: ['org_admin'] })];
  const id = (res: Response) => validated(res, idParams).id;

  router.patch('/organizations/:id', ...orgAdmin({ params: idParams, body: updateOrganizationBody }), async (_req, res) => {
    const changes = validated(res, updateOrganizationBody);
    refuseOperatorFields(res, changes, ['external_id', 'metadata']);
    const org = await organizations.update(id(res), changes, res.locals.requestId);
    res.json(presentOrganization(org));
  });

  router.delete('/organizations/:id', ...orgAdmin({ params: idParams, query: deleteOrganizationQuery }), async (_req, res) => {
    const { purge } = validated(res, deleteOrganizationQuery);
    if (purge && principalOf(res)?.role !== 'platform_admin') throw new ForbiddenError('Only a platform admin may purge an organization.');
    const org = await organizations.delete(id(res), res.locals.requestId, { purge });
    if (org.status === 'purging') accepted(res, org.id).json(presentOrganization(org));
    else res.json(presentOrganization(org));
  });

  router.post(
    '/organizations/:id/restore',
    authentication.required,
    requireRole('platform_admin'),
    validate({ params: idParams, body: restoreOrganizationBody }),
    async (_req, res) => {
      const org = await organizations.restore(id(res), validated(res, restoreOrganizationBody), res.locals.requestId);
      res.json(presentOrganization(org));
    },
  );

  router.post('/organizations/:id/retry', ...platformAdmin, async (_req, res) => {
    const org = await organizations.retry(id(res), res.locals.requestId);
    accepted(res, org.id).json(presentOrganization(org));
  });

  router.get('/organizations/:id/archives', ...platformAdmin, async (_req, res) => {
    res.json(presentOrganizationArchiveList(await organizations.archives(id(res))));
  });

  router.get('/organizations/:id/events', ...orgAdmin(), async (req, res) => {
    const principal = principalOf(res);
    await streamOrganizationStatus({ ...deps, stillAuthorized: () => authentication.stillValid(principal) }, req, res, id(res));
  });

  return router;
}
