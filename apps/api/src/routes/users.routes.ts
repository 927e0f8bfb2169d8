import { Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate } from '../auth/authenticate';
import { authorizeOrganization, organizationOf } from '../auth/authorize-organization';
import { validate, validated } from '../http/validate';
import { presentUser } from '../presenters/user.presenter';
import type { CreateUserInput, UpdateUserInput } from '../services/users.service';
import { idParams } from '../validation/common.schemas';
import { createUserBody, listUsersQuery, updateUserBody, userParams } from '../validation/users.schemas';

type UserParams = { id: string; userId: string };

/**
 * @openapi
 * components:
 *   schemas:
 *     User:
 *       type: object
 *       description: A user of one organization (never its password hash).
 *       required: [id, organization_id, email, role, is_active, last_login_at, created_at, updated_at]
 *       properties:
 *         id: { type: string, format: uuid }
 *         organization_id: { type: string, format: uuid }
 *         email: { type: string, format: email, example: alice@acme.test }
 *         role: { type: string, enum: [admin, member] }
 *         is_active: { type: boolean }
 *         last_login_at: { type: [string, 'null'], format: date-time, description: 'The last successful login; null if never.' }
 *         created_at: { type: string, format: date-time }
 *         updated_at: { type: string, format: date-time }
 *     UserList:
 *       type: object
 *       required: [items, next_cursor]
 *       properties:
 *         items: { type: array, items: { $ref: '#/components/schemas/User' } }
 *         next_cursor: { type: [string, 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' }
 *     NewUser:
 *       type: object
 *       required: [email, password]
 *       additionalProperties: false
 *       properties:
 *         email: { type: string, format: email, example: alice@acme.test }
 *         password: { type: string, minLength: 8, description: 'At most 72 bytes.', example: alice password }
 *         role: { type: string, enum: [admin, member], default: member }
 *         is_active: { type: boolean, default: true }
 *     UserChanges:
 *       type: object
 *       minProperties: 1
 *       additionalProperties: false
 *       description: A new password, a role change or a deactivation revokes the user's earlier tokens.
 *       properties:
 *         role: { type: string, enum: [admin, member] }
 *         is_active: { type: boolean }
 *         password: { type: string, minLength: 8 }
 *   parameters:
 *     OrganizationId: { name: id, in: path, required: true, schema: { type: string, format: uuid } }
 *     UserId: { name: userId, in: path, required: true, schema: { type: string, format: uuid } }
 * /organizations/{id}/users:
 *   post:
 *     tags: [Users]
 *     summary: Create a user in the organization's database
 *     description: That organization's admins and platform admins. Emails are unique case-insensitively.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/NewUser' } } } }
 *     responses:
 *       '201': { description: Created; Location points at the user., content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *   get:
 *     tags: [Users]
 *     summary: List the organization's users (keyset pages)
 *     description: That organization's admins and platform admins; members get 403 (they may read themselves). Follow `next_cursor` until it is null.
 *     security: [{ bearerAuth: [] }]
 *     parameters:
 *       - { $ref: '#/components/parameters/OrganizationId' }
 *       - { name: limit, in: query, schema: { type: integer, minimum: 1, maximum: 100, default: 20 } }
 *       - { name: cursor, in: query, schema: { type: string } }
 *     responses:
 *       '200': { description: A page of users., content: { application/json: { schema: { $ref: '#/components/schemas/UserList' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 * /organizations/{id}/users/{userId}:
 *   get:
 *     tags: [Users]
 *     summary: Read one user
 *     description: Org admins read any user of their organization; members only themselves.
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/UserId' }]
 *     responses:
 *       '200': { description: The user., content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *   patch:
 *     tags: [Users]
 *     summary: Change a user's role, activation or password
 *     description: The last active admin cannot be demoted or deactivated (409).
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/UserId' }]
 *     requestBody: { required: true, content: { application/json: { schema: { $ref: '#/components/schemas/UserChanges' } } } }
 *     responses:
 *       '200': { description: The changed user., content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *   delete:
 *     tags: [Users]
 *     summary: Delete a user
 *     description: The last active admin cannot be deleted (409).
 *     security: [{ bearerAuth: [] }]
 *     parameters: [{ $ref: '#/components/parameters/OrganizationId' }, { $ref: '#/components/parameters/UserId' }]
 *     responses:
 *       '204': { description: Deleted. }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '404': { $ref: '#/components/responses/NotFound' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 */
/** User management inside one organization's database: its admins (and platform admins) manage, members read themselves. */
export function usersRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = authenticate(ctx.passport);
  const orgAdmin = authorizeOrganization(ctx, { roles: ['org_admin'], requireActive: true });
  const orgAdminOrSelf = authorizeOrganization(ctx, {
    roles: ['org_admin', 'member'],
    memberMay: (_req, res, principal) => validated<UserParams>(res, 'params').userId === principal.sub,
    requireActive: true,
  });

  router.post('/organizations/:id/users', auth, validate({ params: idParams, body: createUserBody }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const user = await ctx.users.create(org, validated<CreateUserInput>(res, 'body'));
    res.status(201).location(`/organizations/${org.id}/users/${user.id}`).json(presentUser(user, org.id));
  });

  router.get('/organizations/:id/users', auth, validate({ params: idParams, query: listUsersQuery }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const page = await ctx.users.list(org, validated<{ limit: number; cursor?: string }>(res, 'query'));
    res.json({ items: page.items.map((u) => presentUser(u, org.id)), next_cursor: page.nextCursor });
  });

  router.get('/organizations/:id/users/:userId', auth, validate({ params: userParams }), orgAdminOrSelf, async (_req, res) => {
    const org = organizationOf(res);
    res.json(presentUser(await ctx.users.get(org, validated<UserParams>(res, 'params').userId), org.id));
  });

  router.patch('/organizations/:id/users/:userId', auth, validate({ params: userParams, body: updateUserBody }), orgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const user = await ctx.users.update(org, validated<UserParams>(res, 'params').userId, validated<UpdateUserInput>(res, 'body'));
    res.json(presentUser(user, org.id));
  });

  router.delete('/organizations/:id/users/:userId', auth, validate({ params: userParams }), orgAdmin, async (_req, res) => {
    await ctx.users.delete(organizationOf(res), validated<UserParams>(res, 'params').userId);
    res.status(204).end();
  });

  return router;
}
