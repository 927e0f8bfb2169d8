import { NotFoundError, ValidationError } from '@orgms/common/errors';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { validate, validated } from '../http/validate';
import { presentOrganization, presentOrganizationPage } from '../organizations/organization.presenter';
import { createOrganizationHandler, hintPolling } from '../organizations/organizations.routes';
import { createOrganizationBody } from '../organizations/organizations.schemas';
import type { OrganizationsService } from '../organizations/organizations.service';
import { type Authentication, principalOf, requireRole } from '../sign-in/authenticate';
import { type AuthorizeOrganization, ORGANIZATION_NOT_FOUND, organizationOf } from '../sign-in/authorize-organization';
import { presentUser, presentUserPage } from '../users/user.presenter';
import type { UsersService } from '../users/users.service';
import { compatCreateUserBody, compatListQuery, compatUpdateBody, organizationNameBody, organizationNameQuery } from './compat.schemas';

/**
 * @openapi
 * tags: [{ name: Compatibility }]
 * /org/create:
 *   post:
 *     summary: Same as POST /organizations
 *     description: 'Compatibility route of the seed services: same rules and answer as `POST /organizations` (platform admins, or anyone when self-signup is on). New clients should use `POST /organizations`.'
 *     security: [{ bearerAuth: [] }, {}]
 *     parameters: [{ $ref: '#/components/parameters/IdempotencyKey' }]
 *     requestBody: { $ref: '#/components/requestBodies/NewOrganization' }
 *     x-problems: [Forbidden, Conflict, UnprocessableEntity, TooManyRequests]
 *     responses:
 *       '202': { $ref: '#/components/responses/OrganizationCreated', description: 'Accepted; provisioning runs in the worker.' }
 * /organization/create: { x-same-as: /org/create }
 * /org/get:
 *   parameters: [{ $ref: '#/components/parameters/OrganizationNameQuery' }]
 *   get:
 *     summary: An organization by name (platform admins, that organization's admins)
 *     description: 'Compatibility route: reads the organization named by the `organization_name` query parameter (any case), like `GET /organizations/{id}`. Platform admins and that organization''s admins; an organization user may leave the name out to mean its own. Poll it until `status` is `active`.'
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationWhileInProgress' }
 *   post:
 *     summary: An organization by name, the name in the body
 *     description: 'Compatibility route: as `GET /org/get`, with `organization_name` in a JSON body (or the query string).'
 *     requestBody: { content: { application/json: { schema: { $ref: '#/components/schemas/CompatOrganizationName' } } } }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationWhileInProgress' }
 * /organization:
 *   get:
 *     summary: One organization by name, or (platform admins, without a name) the list
 *     description: 'Compatibility route: with `organization_name`, that organization (as `GET /org/get`); without it, platform admins get the list (as `GET /organizations`).'
 *     parameters: [{ $ref: '#/components/parameters/OrganizationNameQuery' }, { $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationOrPage' }
 * /org/update:
 *   put:
 *     summary: Rename an organization or change its admin email (as PATCH /organizations/{id})
 *     description: 'Compatibility route: finds the organization by `organization_name` and applies `new_organization_name` and/or `email` like `PATCH /organizations/{id}`. Platform admins and that organization''s admins.'
 *     requestBody: { $ref: '#/components/requestBodies/CompatOrganizationChanges' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Organization', description: 'The updated organization.' }
 * /org/delete:
 *   delete:
 *     summary: Delete an organization by name (as DELETE /organizations/{id})
 *     description: 'Compatibility route: deletes the organization named by `organization_name` (query string or JSON body), like `DELETE /organizations/{id}`: `deleted` at once, its database kept for the grace period (restorable by a platform admin).'
 *     parameters: [{ $ref: '#/components/parameters/OrganizationNameQuery' }]
 *     requestBody: { content: { application/json: { schema: { $ref: '#/components/schemas/CompatOrganizationName' } } } }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/Organization', description: 'The organization, now `deleted`.' }
 * /user/create:
 *   post:
 *     summary: Create a user (in the token's organization, or organization_name for platform admins)
 *     description: 'Compatibility route: creates a user like `POST /organizations/{id}/users`. An organization admin''s token names its own organization; platform admins add `organization_name`.'
 *     requestBody: { $ref: '#/components/requestBodies/CompatNewUser' }
 *     x-problems: [ForbiddenOrQuotaExceeded, NotFound, Conflict]
 *     responses:
 *       '201': { $ref: '#/components/responses/UserCreated' }
 * /user/list:
 *   get:
 *     summary: List users (of the token's organization, or organization_name for platform admins)
 *     description: 'Compatibility route: lists users like `GET /organizations/{id}/users`. An organization admin''s token names its own organization; platform admins add `organization_name`.'
 *     parameters: [{ $ref: '#/components/parameters/OrganizationNameQuery' }, { $ref: '#/components/parameters/Limit' }, { $ref: '#/components/parameters/Cursor' }]
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/UserPage' }
 */
/**
 * The seed services' original routes (docs/api/compatibility.md), kept so their clients keep working. Each one
 * only translates the old request shape (organizations named by `organization_name`) and then
 * runs the same authorization middleware and services as the resource routes.
 */
export function compatRoutes(deps: {
  authentication: Authentication;
  authorize: AuthorizeOrganization;
  organizations: OrganizationsService;
  users: UsersService;
  /** When set, anyone may create an organization, through this limit. */
  selfSignup?: RequestHandler;
}): Router {
  const { authorize, organizations, users } = deps;
  const router = Router();
  const auth = deps.authentication.required;
  const mayCreate = deps.selfSignup ? [deps.authentication.optional, deps.selfSignup] : [auth, requireRole('platform_admin')];

  /**
   * The organization a compat request names; org users may leave the name out and mean their
   * own. To an org user every name but its own organization's is the same fixed 404, so these
   * routes never confirm that another organization exists.
   */
  const namedOrganization = async (_req: Request, res: Response): Promise<string> => {
    const input = validated<{ organization_name?: string }>(res, 'query') ?? {};
    const name = input.organization_name ?? validated<{ organization_name?: string }>(res, 'body')?.organization_name;
    const own = principalOf(res)?.org;
    if (!name) {
      if (own) return own;
      throw new ValidationError('organization_name is required.', [{ field: 'query.organization_name', message: 'organization_name is required' }]);
    }
    const org = await organizations.findLiveByName(name);
    if (!org || (own !== undefined && org.id !== own)) throw new NotFoundError(ORGANIZATION_NOT_FOUND);
    return org.id;
  };
  const orgAdmin = authorize({ roles: ['org_admin'], organizationId: namedOrganization });
  const activeOrgAdmin = authorize({ roles: ['org_admin'], organizationId: namedOrganization, requireActive: true });

  const createOrganization = createOrganizationHandler(organizations);
  router.post('/org/create', mayCreate, validate({ body: createOrganizationBody }), createOrganization);
  router.post('/organization/create', mayCreate, validate({ body: createOrganizationBody }), createOrganization);

  const getOrganization = (_req: Request, res: Response) => {
    const org = organizationOf(res);
    hintPolling(res, org);
    res.json(presentOrganization(org));
  };
  router.get('/org/get', auth, validate({ query: organizationNameQuery }), orgAdmin, getOrganization);
  router.post('/org/get', auth, validate({ query: organizationNameQuery, body: organizationNameBody }), orgAdmin, getOrganization);

  // `GET /organization?organization_name=` reads one organization; without a name it lists them (platform admins).
  router.get('/organization', auth, validate({ query: compatListQuery }), async (_req, res, next) => {
    if (validated(res, compatListQuery).organization_name) return orgAdmin(_req, res, next);
    if (principalOf(res)?.role !== 'platform_admin') return requireRole('platform_admin')(_req, res, next);
    const page = await organizations.list(validated(res, compatListQuery));
    res.json(presentOrganizationPage(page));
  });
  router.get('/organization', getOrganization);

  // Rename / admin email and deletion run the organizations service, as PATCH and DELETE /organizations/:id do.
  router.put('/org/update', auth, validate({ body: compatUpdateBody }), orgAdmin, async (_req, res) => {
    const { new_organization_name, email } = validated(res, compatUpdateBody);
    const input = { ...(new_organization_name !== undefined && { organization_name: new_organization_name }), ...(email !== undefined && { email }) };
    res.json(presentOrganization(await organizations.update(organizationOf(res).id, input, res.locals.requestId)));
  });

  router.delete('/org/delete', auth, validate({ query: organizationNameQuery, body: organizationNameBody }), orgAdmin, async (_req, res) => {
    res.json(presentOrganization(await organizations.delete(organizationOf(res).id, res.locals.requestId)));
  });

  router.post('/user/create', auth, validate({ body: compatCreateUserBody }), activeOrgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const { organization_name: _name, ...input } = validated(res, compatCreateUserBody);
    const user = await users.create(org, input);
    res.status(201).location(`/organizations/${org.id}/users/${user.id}`).json(presentUser(user, org.id));
  });

  router.get('/user/list', auth, validate({ query: compatListQuery }), activeOrgAdmin, async (_req, res) => {
    const org = organizationOf(res);
    const { limit, cursor } = validated(res, compatListQuery);
    const page = await users.list(org, { limit, cursor });
    res.json(presentUserPage(page, org.id));
  });

  return router;
}
