import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { validate, validated } from '../http/validate';
import type { Authentication } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { presentUser, presentUserPage } from './user.presenter';
import { createUserBody, listUsersQuery, updateUserBody, userParams } from './users.schemas';
import type { UsersService } from './users.service';

/**
 * @openapi
 * tags: [{ name: Users }]
 * /organizations/{id}/users:
 *   parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *   post:
 *     summary: Create a user in the organization's database
 *     description: |
 *       That organization's admins and platform admins; the organization must be `active` (409 with `organization_status`;
 *       404 for platform admins once it is deleted). Emails are unique case-insensitively (409). 403 `quota-exceeded` when the organization has as many users as its
 *       users quota, or its database is over its size quota (see `GET /organizations/{id}/limits`).
 *     requestBody: { $ref: '#/components/requestBodies/NewUser' }
 *     x-problems: [ForbiddenOrQuotaExceeded, NotFound, Conflict]
 *     responses:
 *       '201': { $ref: '#/components/responses/UserCreated' }
 *   get:
 *     summary: List the organization's users (keyset pages)
 *     description: That organization's admins and platform admins; members get 403 (they may read themselves). Follow `next_cursor` until it is null.
 *     parameters: [{ $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/UserPage' }
 * /organizations/{id}/users/{userId}:
 *   parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/UserId' }]
 *   get:
 *     summary: Read one user
 *     description: Org admins read any user of their organization; members only themselves.
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/User' }
 *   patch:
 *     summary: Change a user's role, activation or password
 *     description: At least one change. The last active admin cannot be demoted or deactivated (409). Revokes the user's earlier tokens.
 *     requestBody: { $ref: '#/components/requestBodies/UserChanges' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/User', description: 'The changed user.' }
 *   delete:
 *     summary: Delete a user
 *     description: The last active admin cannot be deleted (409).
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '204': { description: Deleted. }
 */
/** User management inside one organization's database: its admins (and platform admins) manage, members read themselves. */
export function usersRoutes(deps: { authentication: Authentication; authorize: AuthorizeOrganization; users: UsersService }): Router {
  const { authorize, users } = deps;
  const router = Router();
  const auth = deps.authentication.required;
  const orgAdmin = authorize({ roles: ['org_admin'], requireActive: true });
  const orgAdminOrSelf = authorize({
    roles: ['org_admin', 'member'],
    memberMay: (_req, res, principal) => validated(res, userParams).userId === principal.sub,
    requireActive: true,
  });

  router.post('/organizations/:id/users', auth, validate({ params: idParams, body: createUserBody }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const user = await users.create(org, validated(res, createUserBody));
    res.status(201).location(`/organizations/${org.id}/users/${user.id}`).json(presentUser(user, org.id));
  });

  router.get('/organizations/:id/users', auth, validate({ params: idParams, query: listUsersQuery }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const page = await users.list(org, validated(res, listUsersQuery));
    res.json(presentUserPage(page, org.id));
  });

  router.get('/organizations/:id/users/:userId', auth, validate({ params: userParams }), orgAdminOrSelf, async (_req, res) => {
    const org = organizationOf(res);
    res.json(presentUser(await users.get(org, validated(res, userParams).userId), org.id));
  });

  router.patch('/organizations/:id/users/:userId', auth, validate({ params: userParams, body: updateUserBody }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const user = await users.update(org, validated(res, userParams).userId, validated(res, updateUserBody));
    res.json(presentUser(user, org.id));
  });

  router.delete('/organizations/:id/users/:userId', auth, validate({ params: userParams }), orgAdmin, async (_req, res) => {
    await users.delete(organizationOf(res), validated(res, userParams).userId);
    res.status(204).end();
  });

  return router;
}
