import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { SERVING_STATUSES } from '@orgms/common/organizations/organization-status';
import type { Request, RequestHandler, Response } from 'express';
import { validated } from '../http/validate';
import type { OrganizationsService } from '../organizations/organizations.service';
import type { UsersService } from '../users/users.service';
import { principalOf } from './authenticate';
import type { Principal, Role } from './principal';

export interface OrganizationAccess {
  /** Organization roles let in (platform admins always are). */
  roles: Exclude<Role, 'platform_admin'>[];
  /** Members pass only when this returns true, e.g. when they read their own user. */
  memberMay?: (req: Request, res: Response, principal: Principal) => boolean;
  /** Where the organization id comes from; the validated (canonical) `:id` path parameter by default. */
  organizationId?: (req: Request, res: Response) => string | Promise<string>;
  /** Refuse (409) unless the organization's database serves: active, or moving (reads work, writes answer 503). */
  requireActive?: boolean;
}

/** The authorization check with the access rules of one route: see organizationAuthorizer. */
export type AuthorizeOrganization = (access: OrganizationAccess) => RequestHandler;

/** One answer for every organization a caller may not see, so it never confirms that one exists. */
export const ORGANIZATION_NOT_FOUND = 'No such organization.';

/**
 * THE authorization check for everything under an organization, run after `authenticate` (and
 * `validate`, so the id is canonical) and before any organization database is touched:
 * 1. an org user's token must name this organization, otherwise the fixed 404;
 * 2. the organization must exist (404);
 * 3. an org user's token is checked before anything else is decided: its organization must be
 *    serving, active or moving (otherwise 409 with the status: its users cannot be verified, so nothing is read),
 *    the token must carry the organization's current session generation (otherwise 401: issued
 *    before a delete, which ended every session of the organization), and the user row in that
 *    organization's own database must be active with the token's version (otherwise 401:
 *    deactivated, password or role changed);
 * 4. only then the role (403), and, if required, a serving organization (409 with the status; 404 once purged).
 * The organization is left in `res.locals.organization` (read it with `organizationOf(res)`).
 */
export function organizationAuthorizer(deps: {
  organizations: Pick<OrganizationsService, 'get'>;
  users: Pick<UsersService, 'isTokenCurrent'>;
}): AuthorizeOrganization {
  return (access) => async (req, res, next) => {
    const principal = principalOf(res);
    if (!principal) throw new UnauthorizedError();
    const orgId = await (access.organizationId?.(req, res) ?? validated<{ id: string }>(res, 'params').id);
    const role = principal.role;
    if (role !== 'platform_admin' && principal.org !== orgId) throw new NotFoundError(ORGANIZATION_NOT_FOUND);
    const org = await deps.organizations.get(orgId);
    if (role !== 'platform_admin') {
      if (!SERVING_STATUSES.includes(org.status)) {
        throw new ConflictError(`The organization is ${org.status}; its users can use it again once it is active.`, { organization_status: org.status });
      }
      if ((principal.gen ?? 0) !== org.sessionGeneration) {
        throw new UnauthorizedError('This token was issued before the organization was deleted; log in again.');
      }
      if (!(await deps.users.isTokenCurrent(org, principal.sub, principal.ver))) {
        throw new UnauthorizedError('This token is no longer valid (user deactivated, password or role changed); log in again.');
      }
      const allowed = access.roles.includes(role) && (role !== 'member' || (access.memberMay?.(req, res, principal) ?? true));
      if (!allowed) throw new ForbiddenError('Your role does not allow this.');
    }
    // A purged organization's tombstone stays readable to platform admins (status polling); nothing else is.
    if (access.requireActive && org.status === 'purged') throw new NotFoundError(ORGANIZATION_NOT_FOUND);
    if (access.requireActive && !SERVING_STATUSES.includes(org.status)) {
      throw new ConflictError(`Organization ${orgId} is ${org.status}; this needs it to be active.`, { organization_status: org.status });
    }
    res.locals.organization = org;
    next();
  };
}

export function organizationOf(res: Response): Organization {
  const org = res.locals.organization as Organization | undefined;
  if (!org) throw new Error('the organization authorizer must run before this handler');
  return org;
}
