import { createHash } from 'node:crypto';
import { findPlatformAdminWithHash, UnauthorizedError, verifyPassword } from '@orgms/common';
import type { RequestHandler } from 'express';
import type { AppContext } from '../app-context';
import { authenticate } from '../auth/authenticate';

/** A browser sends Basic credentials with every asset and poll; bcrypt each time would be seconds. */
const BASIC_CACHE_MS = 60_000;

/**
 * For operator pages (Bull Board): a platform admin's bearer token, or a platform admin's
 * email and password by HTTP Basic so a browser can prompt. Anything else is a 401 with
 * `WWW-Authenticate`, which makes the browser show its login dialog.
 */
export function requirePlatformAdminOperator(ctx: AppContext): RequestHandler {
  const bearer = authenticate(ctx.passport);
  const verified = new Map<string, number>();

  return (req, res, next) => {
    const challenge = (detail: string) => {
      res.setHeader('WWW-Authenticate', 'Basic realm="orgms operators", charset="UTF-8"');
      return new UnauthorizedError(detail);
    };
    const header = req.headers.authorization ?? '';
    if (header.startsWith('Bearer ')) {
      return bearer(req, res, (error?: unknown) => {
        if (error) return next(error instanceof UnauthorizedError ? challenge(error.message) : error);
        if (res.locals.principal?.role !== 'platform_admin') return next(challenge('Only platform admins may open the queue dashboard.'));
        next();
      });
    }
    if (!header.startsWith('Basic ')) return next(challenge('Sign in with a platform admin email and password.'));
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const email = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const key = createHash('sha256').update(decoded).digest('hex');
    if ((verified.get(key) ?? 0) > Date.now()) return next();
    (async () => {
      const admin = colon > 0 ? await findPlatformAdminWithHash(ctx.controlDb, email) : null;
      if (!admin || !(await verifyPassword(password, admin.passwordHash))) throw challenge('The email or password is not correct.');
      verified.set(key, Date.now() + BASIC_CACHE_MS);
      next();
    })().catch(next);
  };
}
