import { Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate, principalOf } from '../auth/authenticate';
import { authorizeOrganization, organizationOf } from '../auth/authorize-organization';
import { validate, validated } from '../http/validate';
import { presentUser } from '../presenters/user.presenter';
import { orgLoginBody, orgLoginQuery } from '../validation/users.schemas';

interface OrgLoginBody {
  organization_name?: string;
  organization_id?: string;
  email: string;
  password: string;
}

/**
 * @openapi
 * /admin/login:
 *   post:
 *     tags: [Auth]
 *     security: []
 *     summary: Organization user login
 *     description: >-
 *       The organization by `organization_name` or `organization_id` in the body, or by `organization_name` in the query
 *       string (the seed services' style). A wrong password, an unknown user and an unknown organization all answer the
 *       same 401; an organization that is not active answers 409 with `organization_status`. Throttled per IP and per
 *       account (429 with Retry-After).
 *     parameters:
 *       - { name: organization_name, in: query, schema: { type: string } }
 *     requestBody:
 *       required: true
 *       content:
 *         application/json:
 *           schema:
 *             type: object
 *             required: [email, password]
 *             additionalProperties: false
 *             properties:
 *               organization_name: { type: string, example: Acme Corp }
 *               organization_id: { type: string, format: uuid }
 *               email: { type: string, format: email, example: owner@acme.test }
 *               password: { type: string, example: correct horse battery }
 *     responses:
 *       '200': { description: 'A bearer token; its claims are sub, org, role (org_admin or member), ver, iss, aud, exp.', content: { application/json: { schema: { $ref: '#/components/schemas/Token' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '429': { $ref: '#/components/responses/TooManyRequests' }
 * /me:
 *   get:
 *     tags: [Auth]
 *     summary: Who the token belongs to
 *     description: A platform admin, or an organization user with its organization. Revoked tokens (password or role change, deactivation, removal) answer 401.
 *     security: [{ bearerAuth: [] }]
 *     responses:
 *       '200':
 *         description: The caller.
 *         content:
 *           application/json:
 *             schema:
 *               oneOf:
 *                 - { type: object, properties: { id: { type: string }, email: { type: string }, role: { type: string, enum: [platform_admin] }, created_at: { type: string, format: date-time } } }
 *                 - allOf: [{ $ref: '#/components/schemas/User' }, { type: object, properties: { organization: { type: object, properties: { id: { type: string }, name: { type: string }, status: { $ref: '#/components/schemas/OrganizationStatusName' } } } } }]
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 */
/** `POST /admin/login` (organization users) and `GET /me` (any token). */
export function orgAuthRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/admin/login', validate({ body: orgLoginBody, query: orgLoginQuery }), async (req, res) => {
    const body = validated<OrgLoginBody>(res, 'body');
    const query = validated<{ organization_name?: string }>(res, 'query');
    res.json(
      await ctx.orgAuth.login(
        {
          organizationId: body.organization_id,
          organizationName: body.organization_name ?? (body.organization_id ? undefined : query.organization_name),
          email: body.email,
          password: body.password,
        },
        req.ip ?? 'unknown',
      ),
    );
  });

  const ownOrganization = authorizeOrganization(ctx, {
    roles: ['org_admin', 'member'],
    organizationId: (_req, res) => principalOf(res)?.org ?? '',
    requireActive: true,
  });

  // Platform admins are answered from the control database; everyone else goes on to the next route.
  router.get('/me', authenticate(ctx.passport), async (_req, res, next) => {
    const principal = principalOf(res);
    if (principal?.role !== 'platform_admin') return next('route');
    res.json(await ctx.auth.describe(principal.sub));
  });

  router.get('/me', ownOrganization, async (_req, res) => {
    const org = organizationOf(res);
    const user = await ctx.users.get(org, principalOf(res)?.sub ?? '');
    res.json({ ...presentUser(user, org.id), organization: { id: org.id, name: org.name, status: org.status } });
  });

  return router;
}
