import { ForbiddenError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { IN_PROGRESS_STATUSES } from '@orgms/common/organizations/organization-status';
import { type RequestHandler, type Response, Router } from 'express';
import type { OrganizationEventsHub } from '../events/organization-events-hub';
import { idParams } from '../http/common.schemas';
import { holdUntilStatusChanges } from '../http/prefer-wait';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { type Authentication, principalOf, requireRole } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { presentOrganization, presentOrganizationPage, presentStatus } from './organization.presenter';
import { createOrganizationBody, idempotencyKeyOf, listOrganizationsQuery } from './organizations.schemas';
import type { OrganizationsService } from './organizations.service';

/** What the routes of one organization use: who is calling, may they, the service, and its status changes. */
export interface OrganizationRouteDeps {
  authentication: Authentication;
  authorize: AuthorizeOrganization;
  organizations: OrganizationsService;
  events: OrganizationEventsHub;
}

/**
 * The fields only platform admins may set: an operator's or a billing system's decisions, never
 * a self-signup's or an organization admin's (who could otherwise take another's external id).
 * A 403 naming them when anyone else sends one.
 */
export function refuseOperatorFields(res: Response, body: object, fields: readonly string[]): void {
  const sent = fields.filter((field) => (body as Record<string, unknown>)[field] !== undefined);
  if (sent.length > 0 && principalOf(res)?.role !== 'platform_admin') throw new ForbiddenError(`Only platform admins may set ${sent.join(', ')}.`);
}

/**
 * `POST /organizations` and the compatibility creates: one handler. Choosing the database server,
 * the external id and the metadata is an operator's decision, never a self-signup's. With an
 * `Idempotency-Key` header the create happens once per caller and key (idempotent-requests.ts);
 * callers are told apart by their token's subject, or by their address when they sent none.
 */
export function createOrganizationHandler(organizations: Pick<OrganizationsService, 'create'>): RequestHandler {
  return async (req, res) => {
    const body = validated(res, createOrganizationBody);
    refuseOperatorFields(res, body, ['database_server', 'external_id', 'metadata']);
    const principal = principalOf(res);
    const key = idempotencyKeyOf(req);
    const scope = principal ? `${principal.role}:${principal.sub}` : `address:${req.ip}`;
    const org = await organizations.create(body, res.locals.requestId, key === undefined ? undefined : { scope, key });
    hintPolling(res, org);
    res.status(202).location(`/organizations/${org.id}`).json(presentOrganization(org));
  };
}

/** While the worker is busy with the organization, tell the client when to poll again. */
export function hintPolling(res: Response, org: Organization): void {
  if (IN_PROGRESS_STATUSES.includes(org.status)) retryAfter(res);
}

/**
 * @openapi
 * tags: [{ name: Organizations }]
 * /organizations:
 *   post:
 *     summary: Request a new organization (provisioned asynchronously)
 *     description: |
 *       Platform admins (anyone when `ALLOW_SELF_SIGNUP=true`, then at most `SIGNUP_RATE_LIMIT_PER_IP` per address per window without a platform admin's token: 429). Records the organization as `pending` and enqueues its
 *       provisioning: the worker creates its own PostgreSQL database, migrates it and seeds the first admin (the `email`
 *       and `password` given here). Poll `Location` (or `/status`) until `status` is `active` or `failed`.
 *       Names are unique among live organizations, compared case-insensitively and by look-alike skeleton.
 *       Platform admins may also set `external_id` (a billing or CRM id, unique among organizations not purged: 409 naming
 *       `field: external_id`) and `metadata` (a small map of strings); anyone else sending them gets a 403.
 *       The organization is placed on the `active` database server with the most free capacity (a platform admin may name
 *       one with `database_server`); when no server can take it (all full, or unreachable) the answer is 503 with `Retry-After`
 *       and nothing is recorded. With an `Idempotency-Key` the same caller's retries (same key, same body, within 24 h) answer the
 *       organization the first request made, in its current state; the key with another body is a 422.
 *     security: [{ bearerAuth: [] }, {}]
 *     parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }]
 *     requestBody: { $ref: '#/components/requestBodies/NewOrganization' }
 *     x-problems: [Forbidden, Conflict, UnprocessableEntity, TooManyRequests]
 *     responses:
 *       '202': { $ref: '#/components/responses/OrganizationCreated' }
 *   get:
 *     summary: Find organizations (filters, sort, keyset pages)
 *     description: |
 *       Platform admins only. Every filter given must hold: status, a name prefix (as the name looks: any case, full width,
 *       look-alike letters), database server, creation window (`created_after` inclusive, `created_before` exclusive) and
 *       external id. Sorted newest first unless `sort` says otherwise (`created_at`, `-created_at`, `name`, `-name`; ties by id).
 *       Follow `next_cursor` with the same filters and `sort` until it is null; a cursor of another sort is a 400.
 *       One query per page, each filter and sort served by an index.
 *     parameters:
 *       - { $ref: '#/components/parameters/OrganizationStatusFilter' }
 *       - { $ref: '#/components/parameters/OrganizationNameFilter' }
 *       - { $ref: '#/components/parameters/OrganizationServerFilter' }
 *       - { $ref: '#/components/parameters/OrganizationExternalIdFilter' }
 *       - { $ref: '#/components/parameters/CreatedAfter' }
 *       - { $ref: '#/components/parameters/CreatedBefore' }
 *       - { $ref: '#/components/parameters/OrganizationSort' }
 *       - { $ref: '#/components/parameters/Limit' }
 *       - { $ref: '#/components/parameters/Cursor' }
 *     x-problems: [Forbidden]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationPage' }
 * /organizations/{id}:
 *   get:
 *     summary: Read one organization
 *     description: |
 *       Platform admins, or an admin of this organization (whose organization must be `active`: otherwise 409 with
 *       `organization_status`). `Retry-After` while the organization is in progress; `Prefer: wait=N` long-polls.
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/PreferWait' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/PolledOrganization' }
 * /organizations/{id}/status:
 *   get:
 *     summary: Read an organization's provisioning status
 *     description: A small answer for polling. Platform admins, or an admin of this organization (409 with `organization_status` unless it is `active`).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/PreferWait' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/PolledOrganizationStatus' }
 */
/** `selfSignup`: when set, anyone may create an organization, through this limit (auth/signup-throttle.ts). */
export function organizationsRoutes(deps: OrganizationRouteDeps & { selfSignup?: RequestHandler }): Router {
  const { authentication, organizations } = deps;
  const router = Router();
  const platformAdmin = [authentication.required, requireRole('platform_admin')];
  // Platform admins, or an admin of this very organization (sign-in/authorize-organization.ts).
  const orgAdminOrPlatformAdmin = deps.authorize({ roles: ['org_admin'] });
  // With self-signup anyone may create an organization; otherwise only platform admins.
  const mayCreate = deps.selfSignup ? [authentication.optional, deps.selfSignup] : platformAdmin;

  router.post('/organizations', ...mayCreate, validate({ body: createOrganizationBody }), createOrganizationHandler(organizations));

  router.get('/organizations', ...platformAdmin, validate({ query: listOrganizationsQuery }), async (_req, res) => {
    const page = await organizations.list(validated(res, listOrganizationsQuery));
    res.json(presentOrganizationPage(page));
  });

  router.get('/organizations/:id', authentication.required, validate({ params: idParams }), orgAdminOrPlatformAdmin, async (req, res) => {
    const org = await holdUntilStatusChanges(deps, req, res, organizationOf(res)); // loaded by the authorization check
    hintPolling(res, org);
    res.json(presentOrganization(org));
  });

  router.get('/organizations/:id/status', authentication.required, validate({ params: idParams }), orgAdminOrPlatformAdmin, async (req, res) => {
    const org = await holdUntilStatusChanges(deps, req, res, organizationOf(res)); // loaded by the authorization check
    hintPolling(res, org);
    res.json(presentStatus(org));
  });

  return router;
}
