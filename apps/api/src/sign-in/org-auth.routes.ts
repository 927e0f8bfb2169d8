import { Router } from 'express';
import { validate, validated } from '../http/validate';
import { presentUser } from '../users/user.presenter';
import { orgLoginBody, orgLoginQuery } from '../users/users.schemas';
import type { UsersService } from '../users/users.service';
import type { AuthService } from './auth.service';
import { type Authentication, principalOf } from './authenticate';
import { type AuthorizeOrganization, organizationOf } from './authorize-organization';
import type { OrgAuthService } from './org-auth.service';

/**
 * @openapi
 * tags: [{ name: Auth }]
 * /admin/login:
 *   post:
 *     security: []
 *     summary: Organization user login
 *     description: >-
 *       Anyone may call it (no token). The organization by `organization_name` or `organization_id` in the body, or by
 *       `organization_name` in the query string (the seed services' style). A wrong password, an unknown user and an
 *       unknown organization all answer the same 401; an organization that is not active answers 409 with
 *       `organization_status`. Throttled per IP and per account (429 with Retry-After).
 *     parameters: [{ $ref: '#/components/parameters/OrganizationNameQuery' }]
 *     requestBody: { $ref: '#/components/requestBodies/OrganizationLogin' }
 *     x-problems: [LoginFailed, Conflict, TooManyRequests]
 *     responses:
 *       '200': { $ref: '#/components/responses/Session', description: 'A bearer token; its claims are sub, org, role (org_admin or member), ver, iss, aud, exp.' }
 * /me:
 *   get:
 *     summary: Who the token belongs to
 *     description: |
 *       A platform admin, or an organization user with its organization. Revoked tokens (password or role change,
 *       deactivation, removal, or issued before the organization was deleted, even once it is restored) answer 401; an
 *       organization user's organization that is not active answers 409 with `organization_status`.
 *     x-problems: [NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/CurrentUser' }
 */
/** `POST /admin/login` (organization users) and `GET /me` (any token). */
export function orgAuthRoutes(deps: {
  authentication: Authentication;
  authorize: AuthorizeOrganization;
  orgAuth: OrgAuthService;
  auth: AuthService;
  users: UsersService;
}): Router {
  const { orgAuth, auth, users } = deps;
  const router = Router();

  router.post('/admin/login', validate({ body: orgLoginBody, query: orgLoginQuery }), async (req, res) => {
    const body = validated(res, orgLoginBody);
    const query = validated(res, orgLoginQuery);
    res.json(
      await orgAuth.login(
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

  const ownOrganization = deps.authorize({
    roles: ['org_admin', 'member'],
    organizationId: (_req, res) => principalOf(res)?.org ?? '',
    requireActive: true,
  });

  // Platform admins are answered from the control database; everyone else goes on to the next route.
  router.get('/me', deps.authentication.required, async (_req, res, next) => {
    const principal = principalOf(res);
    if (principal?.role !== 'platform_admin') return next('route');
    res.json(await auth.describe(principal.sub));
  });

  router.get('/me', ownOrganization, async (_req, res) => {
    const org = organizationOf(res);
    const user = await users.get(org, principalOf(res)?.sub ?? '');
    res.json({ ...presentUser(user, org.id), organization: { id: org.id, name: org.name, status: org.status } });
  });

  return router;
}
