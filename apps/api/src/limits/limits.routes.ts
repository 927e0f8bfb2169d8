import { Router } from 'express';
import { idParams } from '../http/common.schemas';
import { validate, validated } from '../http/validate';
import type { Authentication } from '../sign-in/authenticate';
import { type AuthorizeOrganization, organizationOf } from '../sign-in/authorize-organization';
import { presentLimits } from './limits.presenter';
import { limitChangesBody } from './limits.schemas';
import type { LimitsService } from './limits.service';

/**
 * @openapi
 * tags: [{ name: Organizations }]
 * /organizations/{id}/limits:
 *   parameters: [{ $ref: '#/components/parameters/OrganizationId' }]
 *   get:
 *     summary: Read an organization's limits and what it uses of them
 *     description: |
 *       That organization's admins and platform admins (members 403). The limits that apply (the configured defaults with
 *       the organization's overrides on top): requests per window by class with the requests counted in the current window,
 *       its database role's limits, its quotas with their usage (users now; its database's size at the quota sweep's last
 *       sample), and whether it is over a quota.
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationLimits' }
 *   patch:
 *     summary: Change an organization's limits (platform admins)
 *     description: |
 *       Platform admins only (organization users 403). Sets or clears (null) overrides of the defaults; audited as
 *       `organization.limits_changed`. A change of a database limit is applied to the organization's role. The organization
 *       must be active (409 with `organization_status`).
 *     requestBody: { $ref: '#/components/requestBodies/OrganizationLimitChanges' }
 *     x-problems: [Forbidden, NotFound, Conflict]
 *     responses:
 *       '200': { $ref: '#/components/responses/OrganizationLimits', description: Its limits and usage after the change. }
 */
export function limitsRoutes(deps: { authentication: Authentication; authorize: AuthorizeOrganization; limits: LimitsService }): Router {
  const { authorize, limits } = deps;
  const router = Router();
  const auth = deps.authentication.required;

  router.get('/organizations/:id/limits', auth, validate({ params: idParams }), authorize({ roles: ['org_admin'] }), async (_req, res) => {
    res.json(presentLimits(await limits.view(organizationOf(res))));
  });

  // No organization role may change its own limits: platform admins only.
  router.patch(
    '/organizations/:id/limits',
    auth,
    validate({ params: idParams, body: limitChangesBody }),
    authorize({ roles: [], requireActive: true }),
    async (_req, res) => {
      const org = organizationOf(res);
      await limits.change(org, validated(res, limitChangesBody));
      res.json(presentLimits(await limits.view(org)));
    },
  );

  return router;
}
