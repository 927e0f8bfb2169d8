import { ConflictError, ForbiddenError, NotFoundError, type Organization, UnauthorizedError } from '@orgms/common';
import type { Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../app-context';
import { validated } from '../http/validate';
import { principalOf } from './authenticate';
import type { Principal, Role } from './principal';

export interface OrganizationAccess {
  /** Organization roles let in (platform admins always are). */
  roles: Exclude<Role, 'platform_admin'>[];
  /** Members pass only when this returns true, e.g. when they read their own user. */
  memberMay?: (req: Request, res: Response, principal: Principal) => boolean;
  /** Where the organization id comes from; the validated (canonical) `:id` path parameter by default. */
  organizationId?: (req: Request, res: Response) => string | Promise<string>;
  /** Refuse (409) unless the organization is active: its database is only usable then. */
  requireActive?: boolean;
}

/**
 * THE authorization check for everything under an organization, run after `authenticate` and
 * before any organization database is touched:
 * 1. an org user's token must name this organization (otherwise 404, which does not confirm
 *    that another organization exists) and carry an allowed role (otherwise 403);
 * 2. the organization must exist (404); if required, it must be active (409; 404 once deleted);
 * 3. only then, for org users of an active organization, the token is checked against the
 *    user row in the token's OWN organization database: a deactivated user, or a token issued
 *    before a password or role change, is refused with 401.
 * The organization is left in `res.locals.organization` (read it with `organizationOf(res)`).
 */
export function authorizeOrganization(ctx: AppContext, access: OrganizationAccess): RequestHandler {
  return async (req, res, next) => {
    const principal = principalOf(res);
    if (!principal) throw new UnauthorizedError();
    const orgId = await (access.organizationId?.(req, res) ?? validated<{ id: string }>(res, 'params').id);
    if (principal.role !== 'platform_admin') {
      if (principal.org !== orgId) throw new NotFoundError(`Organization ${orgId} does not exist.`);
      const allowed = access.roles.includes(principal.role) && (principal.role !== 'member' || (access.memberMay?.(req, res, principal) ?? true));
      if (!allowed) throw new ForbiddenError('Your role does not allow this.');
    }
    const org = await ctx.store.get(orgId);
    // A deleted organization's tombstone stays readable (status polling); nothing else is.
    if (access.requireActive && org.status === 'deleted') throw new NotFoundError(`Organization ${orgId} does not exist.`);
    if (access.requireActive && org.status !== 'active') {
      throw new ConflictError(`Organization ${orgId} is ${org.status}; this needs it to be active.`, { organization_status: org.status });
    }
    if (principal.role !== 'platform_admin' && org.status === 'active' && !(await ctx.users.isTokenCurrent(org, principal.sub, principal.ver))) {
      throw new UnauthorizedError('This token is no longer valid (user deactivated, password or role changed); log in again.');
    }
    res.locals.organization = org;
    next();
  };
}

export function organizationOf(res: Response): Organization {
  const org = res.locals.organization as Organization | undefined;
  if (!org) throw new Error('authorizeOrganization must run before this handler');
  return org;
}
