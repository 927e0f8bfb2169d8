import { type Config, ForbiddenError, isCanonicalUuid, type PlatformAdminAuthState, UnauthorizedError } from '@orgms/common';
import type { RequestHandler, Response } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Principal, Role } from './principal';
import { jwtKey } from './tokens';

const ROLES: readonly Role[] = ['platform_admin', 'org_admin', 'member'];

/** Where a platform admin's token is checked on every request (the control database). */
export interface PlatformAdminTokens {
  authState(adminId: string): Promise<PlatformAdminAuthState | null>;
}

/**
 * A passport instance of our own (not the global one), so two apps in one process never share
 * keys. A token is accepted only with an expiry, and a platform admin's only while the admin
 * exists, is active and has the token version the token carries (a password change,
 * deactivation or removal revokes). Org users' tokens are checked against their own
 * organization's database by authorizeOrganization, which every organization route runs.
 */
export function createPassport(config: Config, platformAdmins: PlatformAdminTokens): passport.Authenticator {
  const instance = new passport.Passport();
  instance.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: jwtKey(config) as unknown as string, // a KeyObject: see jwtKey()
        algorithms: ['HS256'],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      },
      (payload: Record<string, unknown>, done: (error: unknown, user?: Principal | false) => void) => {
        const role = payload.role as Role;
        if (!isCanonicalUuid(payload.sub) || !ROLES.includes(role) || typeof payload.exp !== 'number') return done(null, false);
        if (role !== 'platform_admin' && !isCanonicalUuid(payload.org)) return done(null, false);
        const principal: Principal = { sub: payload.sub, role, org: payload.org as string | undefined, ver: payload.ver as number | undefined };
        if (role !== 'platform_admin') return done(null, principal);
        platformAdmins.authState(principal.sub).then(
          (state) => done(null, state?.isActive === true && state.tokenVersion === principal.ver ? principal : false),
          (error) => done(error),
        );
      },
    ),
  );
  return instance;
}

/**
 * Requires a valid bearer token (signature, expiry, issuer, audience); the caller is then
 * available as `principalOf(res)`. With `optional`, a request without a token passes through.
 */
export function authenticate(instance: passport.Authenticator, options: { optional?: boolean } = {}): RequestHandler {
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
