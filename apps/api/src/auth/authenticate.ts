import type { JwtConfig } from '@orgms/common/config';
import { ForbiddenError, UnauthorizedError } from '@orgms/common/errors';
import { isCanonicalUuid } from '@orgms/common/ids';
import type { RequestHandler, Response } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Principal, Role } from './principal';
import { jwtKey } from './tokens';

const ROLES: readonly Role[] = ['platform_admin', 'org_admin', 'member'];

/** Where a platform admin's token is checked on every request (the control database). */
export interface PlatformAdminTokens {
  isTokenCurrent(adminId: string, tokenVersion: number | undefined): Promise<boolean>;
}

/**
 * The bearer-token check, built once per app (auth/authenticate.ts is the only place that knows
 * it is passport): `required` answers 401 without a valid token, `optional` lets a request
 * without any token through. The caller is then available as `principalOf(res)`.
 */
export interface Authentication {
  required: RequestHandler;
  optional: RequestHandler;
  /**
   * Whether an accepted principal still holds, for answers that outlive their request (event
   * streams): a platform admin's row must still be active at the token's version. Org users'
   * streams need an active organization, which ends them at their first frame.
   */
  stillValid(principal: Principal | undefined): Promise<boolean>;
}

export function createAuthentication(jwtConfig: JwtConfig, platformAdmins: PlatformAdminTokens): Authentication {
  const instance = createPassport(jwtConfig, platformAdmins);
  return {
    required: authenticate(instance),
    optional: authenticate(instance, { optional: true }),
    async stillValid(principal) {
      if (!principal) return false;
      return principal.role !== 'platform_admin' || platformAdmins.isTokenCurrent(principal.sub, principal.ver);
    },
  };
}

/**
 * A passport instance of our own (not the global one), so two apps in one process never share
 * keys. A token is accepted only with an expiry, and a platform admin's only while the admin
 * exists, is active and has the token version the token carries (a password change,
 * deactivation or removal revokes). Org users' tokens are checked against their own
 * organization's database by the organization authorizer (authorize-organization.ts), which every
 * organization route runs.
 */
function createPassport(jwtConfig: JwtConfig, platformAdmins: PlatformAdminTokens): passport.Authenticator {
  const instance = new passport.Passport();
  instance.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: jwtKey(jwtConfig) as unknown as string, // a KeyObject: see jwtKey()
        algorithms: ['HS256'],
        issuer: jwtConfig.issuer,
        audience: jwtConfig.audience,
      },
      (payload: Record<string, unknown>, done: (error: unknown, user?: Principal | false) => void) => {
        const role = payload.role as Role;
        if (!isCanonicalUuid(payload.sub) || !ROLES.includes(role) || typeof payload.exp !== 'number') return done(null, false);
        if (role !== 'platform_admin' && !isCanonicalUuid(payload.org)) return done(null, false);
        const principal: Principal = { sub: payload.sub, role, org: payload.org as string | undefined, ver: payload.ver as number | undefined };
        if (role !== 'platform_admin') return done(null, principal);
        platformAdmins.isTokenCurrent(principal.sub, principal.ver).then(
          (current) => done(null, current ? principal : false),
          (error) => done(error),
        );
      },
    ),
  );
  return instance;
}

/** Checks the bearer token's signature, expiry, issuer and audience, and then its principal. */
function authenticate(instance: passport.Authenticator, options: { optional?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    if (options.optional && !req.headers.authorization) return next();
    instance.authenticate('jwt', { session: false }, (error: unknown, principal: Principal | false) => {
      if (error) return next(error);
      if (!principal) return next(new UnauthorizedError());
      res.locals.principal = principal;
      next();
    })(req, res, next);
  };
}

export function principalOf(res: Response): Principal | undefined {
  return res.locals.principal;
}

/** Lets only the listed roles through (after authenticate). */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (!principal) return next(new UnauthorizedError());
    if (!roles.includes(principal.role)) return next(new ForbiddenError(`This needs one of the roles: ${roles.join(', ')}.`));
    next();
  };
}
