import { IN_PROGRESS_STATUSES, type Organization, type OrganizationStatus } from '@orgms/common';
import { type Response, Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate, requireRole } from '../auth/authenticate';
import { authorizeOrganization, organizationOf } from '../auth/authorize-organization';
import { holdUntilStatusChanges } from '../http/prefer-wait';
import { retryAfter } from '../http/retry-after';
import { validate, validated } from '../http/validate';
import { presentOrganization, presentStatus } from '../presenters/organization.presenter';
import type { CreateOrganizationInput } from '../services/organizations.service';
import { idParams } from '../validation/common.schemas';
import { createOrganizationBody, listOrganizationsQuery } from '../validation/organizations.schemas';

/** While the worker is busy with the organization, tell the client when to poll again. */
export function hintPolling(res: Response, org: Organization): void {
  if (IN_PROGRESS_STATUSES.includes(org.status)) retryAfter(res);
}

/**
 * @openapi
 * components:
 *   parameters:
 *     PreferWait:
 *       name: Prefer
 *       in: header
 *       required: false
 *       description: '`wait=N` (N ≤ 30) holds the answer until the status changes or N seconds pass; the answer then carries `Preference-Applied`.'
 *       schema: { type: string, example: 'wait=10' }
 *   headers:
 *     RetryAfter:
 *       description: Seconds to wait before polling again; present while the organization is pending, provisioning or deleting.
 *       schema: { type: integer, example: 2 }
 * /organizations:
 *   post:
 *     tags: [Organizations]
 *     summary: Request a new organization (provisioned asynchronously)
 *     description: |
 *       Platform admins (anyone when `ALLOW_SELF_SIGNUP=true`). Records the organization as `pending` and enqueues its
 *       provisioning: the worker creates its own PostgreSQL database, migrates it and seeds the first admin (the `email`
 *       and `password` given here). Poll `Location` (or `/status`) until `status` is `active` or `failed`.
 *       Names are unique case-insensitively among live organizations. Passwords need 8 characters (at most 72 bytes).
 *     security: [{ bearerAuth: [] }, {}]
 *     requestBody:
 *       required: true
 *       content:
 *         application/json:
 *           schema:
 *             type: object
 *             additionalProperties: false
 *             required: [organization_name, email, password]
 *             properties:
 *               organization_name: { type: string, minLength: 2, maxLength: 100, example: Acme Corp }
 *               email: { type: string, format: email, description: The first admin's email., example: owner@acme.test }
 *               password: { type: string, minLength: 8, description: The first admin's password., example: correct horse battery }
 *     responses:
 *       '202':
 *         description: Accepted; the organization is `pending`.
 *         headers:
 *           Location: { description: The organization's URL., schema: { type: string, example: /organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab } }
 *           Retry-After: { $ref: '#/components/headers/RetryAfter' }
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/Organization' }
 *             example: { id: 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab, name: Acme Corp, slug: acme-corp, status: pending, step: null, last_error: null, admin_email: owner@acme.test, schema_version: null, created_at: '2026-11-21T21:13:17.815Z', updated_at: '2026-11-21T21:13:17.815Z' }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '413': { $ref: '#/components/responses/PayloadTooLarge' }
 *       '415': { $ref: '#/components/responses/UnsupportedMediaType' }
 *   get:
 *     tags: [Organizations]
 *     summary: List organizations (newest first, keyset pages)
 *     description: Platform admins only. Follow `next_cursor` until it is null.
 *     security: [{ bearerAuth: [] }]
 *     parameters:
 *       - { name: status, in: query, schema: { $ref: '#/components/schemas/OrganizationStatusName' } }
 *       - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100, default: 20 } }
 *       - { name: cursor, in: query, schema: { type: string }, description: '`next_cursor` of the previous page.' }
 *     responses:
 *       '200':
 *         description: A page of organizations.
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/OrganizationList' }
 *             example: { items: [], next_cursor: null }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 * /organizations/{id}:
 *   get:
 *     tags: [Organizations]
 *     summary: Read one organization
 *     description: Platform admins, or an admin of this organization. `Retry-After` while the organization is in progress.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/PreferWait' }]
 *     responses:
 *       '200':
 *         description: The organization.
 *         headers: { Retry-After: { $ref: '#/components/headers/RetryAfter' } }
 *         content: { application/json: { schema: { $ref: '#/components/schemas/Organization' } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 * /organizations/{id}/status:
 *   get:
 *     tags: [Organizations]
 *     summary: Read an organization's provisioning status
 *     description: A small answer for polling. Platform admins, or an admin of this organization.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/PreferWait' }]
 *     responses:
 *       '200':
 *         description: The status.
 *         headers: { Retry-After: { $ref: '#/components/headers/RetryAfter' } }
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/OrganizationStatus' }
 *             example: { id: 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab, status: provisioning, step: migrate, attempts: 1, last_error: null, updated_at: '2026-11-21T21:13:17.900Z' }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 */
export function organizationsRoutes(ctx: AppContext): Router {
  const router = Router();
  const platformAdmin = [authenticate(ctx.passport), requireRole('platform_admin')];
  // Platform admins, or an admin of this very organization (auth/authorize-organization.ts).
  const orgAdminOrPlatformAdmin = authorizeOrganization(ctx, { roles: ['org_admin'] });
  // With self-signup anyone may create an organization; otherwise only platform admins.
  const mayCreate = ctx.config.allowSelfSignup ? [authenticate(ctx.passport, { optional: true })] : platformAdmin;

  router.post('/organizations', ...mayCreate, validate({ body: createOrganizationBody }), async (_req, res) => {
    const org = await ctx.organizations.create(validated<CreateOrganizationInput>(res, 'body'), res.locals.requestId);
    hintPolling(res, org);
    res.status(202).location(`/organizations/${org.id}`).json(presentOrganization(org));
  });

  router.get('/organizations', ...platformAdmin, validate({ query: listOrganizationsQuery }), async (_req, res) => {
    const page = await ctx.organizations.list(validated<{ status?: OrganizationStatus; limit: number; cursor?: string }>(res, 'query'));
    res.json({ items: page.items.map(presentOrganization), next_cursor: page.nextCursor });
  });

  router.get('/organizations/:id', authenticate(ctx.passport), validate({ params: idParams }), orgAdminOrPlatformAdmin, async (req, res) => {
    const org = await holdUntilStatusChanges(ctx, req, res, organizationOf(res)); // loaded by the authorization check
    hintPolling(res, org);
    res.json(presentOrganization(org));
  });

  router.get('/organizations/:id/status', authenticate(ctx.passport), validate({ params: idParams }), orgAdminOrPlatformAdmin, async (req, res) => {
    const org = await holdUntilStatusChanges(ctx, req, res, organizationOf(res)); // loaded by the authorization check
    hintPolling(res, org);
    res.json(presentStatus(org));
  });

  return router;
}
