import type { Clock } from '@orgms/common/clock';
import type { JwtConfig } from '@orgms/common/config';
import { ForbiddenError, UnauthorizedError } from '@orgms/common/errors';
import { isCanonicalUuid } from '@orgms/common/ids';
import { currentContext } from '@orgms/common/request-context';
import type { Request, RequestHandler, Response } from 'express';
import jwt from 'jsonwebtoken';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import type { Principal, Role } from './principal';
import { SigningKeys } from './signing-keys';

const ROLES: readonly Role[] = ['platform_admin', 'org_admin', 'member'];

/** Where a platform admin's token is checked on every request (the control database). */
export interface PlatformAdminTokens {
  isTokenCurrent(adminId: string, tokenVersion: number | undefined): Promise<boolean>;
}

/**
 * The bearer-token check, built once per app (sign-in/authenticate.ts is the only place that knows
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

export function createAuthentication(jwtConfig: JwtConfig, platformAdmins: PlatformAdminTokens, clock: Clock): Authentication {
  const verified = new VerifiedTokens(clock);
  const instance = createPassport(jwtConfig, platformAdmins, verified, clock);
  return {
    required: authenticate(instance, verified, platformAdmins),
    optional: authenticate(instance, verified, platformAdmins, { optional: true }),
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
function createPassport(jwtConfig: JwtConfig, platformAdmins: PlatformAdminTokens, verified: VerifiedTokens, clock: Clock): passport.Authenticator {
  const instance = new passport.Passport();
  const signingKeys = new SigningKeys(jwtConfig);
  instance.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // The key the token's `kid` names (see SigningKeys); none is a 401 like a bad signature.
        secretOrKeyProvider: (_req: Request, token: string, done: (error: Error | null, key?: string) => void) => {
          const key = signingKeys.verifyingKey(jwt.decode(token, { complete: true })?.header.kid);
          if (!key) return done(new Error('no such signing key'));
          done(null, key as unknown as string); // a KeyObject, which jsonwebtoken takes as it is
        },
        algorithms: ['HS256'],
        issuer: jwtConfig.issuer,
        audience: jwtConfig.audience,
        passReqToCallback: true,
        // jsonwebtoken would compare `exp` with Date.now(): it is compared with the clock below.
        ignoreExpiration: true,
      },
      (req: Request, payload: Record<string, unknown>, done: (error: unknown, user?: Principal | false) => void) => {
        const role = payload.role as Role;
        if (!isCanonicalUuid(payload.sub) || !ROLES.includes(role) || typeof payload.exp !== 'number') return done(null, false);
        if (payload.exp * 1000 <= clock.now().getTime()) return done(null, false);
        if (role !== 'platform_admin' && !isCanonicalUuid(payload.org)) return done(null, false);
        const principal: Principal = {
          sub: payload.sub,
          role,
          org: payload.org as string | undefined,
          ver: payload.ver as number | undefined,
          gen: payload.gen as number | undefined,
        };
        verified.remember(bearerTokenOf(req), principal, payload.exp);
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

/**
 * Tokens whose signature, issuer, audience and claims passport already verified, until they
 * expire: a client polling with one token pays the HMAC and the JSON parsing once, not on every
 * request. Keyed by the exact token text, so nothing but that token can match; the revocation
 * check (a platform admin's token version) still runs on every request.
 */
class VerifiedTokens {
  private static readonly MAX = 10000;
  private readonly tokens = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(private readonly clock: Clock) {}

  find(token: string): Principal | undefined {
    const hit = this.tokens.get(token);
    if (!hit) return undefined;
    if (hit.expiresAt > this.clock.now().getTime()) return hit.principal;
    this.tokens.delete(token);
    return undefined;
  }

  remember(token: string | undefined, principal: Principal, exp: number): void {
    if (!token) return;
    if (this.tokens.size >= VerifiedTokens.MAX) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(token, { principal: Object.freeze({ ...principal }), expiresAt: exp * 1000 });
  }
}

/** The token of `Authorization: Bearer <token>`, as passport-jwt reads it. */
function bearerTokenOf(req: Request): string | undefined {
  return ExtractJwt.fromAuthHeaderAsBearerToken()(req) ?? undefined;
}

/** Checks the bearer token's signature, expiry, issuer and audience, and then its principal. */
function authenticate(
  instance: passport.Authenticator,
  verified: VerifiedTokens,
  platformAdmins: PlatformAdminTokens,
  options: { optional?: boolean } = {},
): RequestHandler {
  const accept = (res: Response, next: (error?: unknown) => void) => (principal: Principal | false) => {
    if (!principal) return next(new UnauthorizedError());
    res.locals.principal = principal;
    // The request's log lines and audit entries name the caller from here on.
    const context = currentContext();
    if (context) context.actor = { kind: principal.role === 'platform_admin' ? 'platform_admin' : 'org_user', id: principal.sub };
    next();
  };
  return (req, res, next) => {
    if (options.optional && !req.headers.authorization) return next();
    const token = bearerTokenOf(req);
    const known = token ? verified.find(token) : undefined;
    if (known) {
      if (known.role !== 'platform_admin') return accept(res, next)(known);
      platformAdmins.isTokenCurrent(known.sub, known.ver).then((current) => accept(res, next)(current && known), next);
      return;
    }
    instance.authenticate('jwt', { session: false }, (error: unknown, principal: Principal | false) => {
      if (error) return next(error);
      accept(res, next)(principal);
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
