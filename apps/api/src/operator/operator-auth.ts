import { createHash } from 'node:crypto';
import { UnauthorizedError } from '@orgms/common/errors';
import type { RequestHandler } from 'express';
import type { AuthService } from '../sign-in/auth.service';
import type { Authentication } from '../sign-in/authenticate';

/**
 * A browser sends Basic credentials with every asset and poll, and bcrypt each time would cost
 * seconds; a credential that passed is remembered this long. A hit is still checked against
 * the admin's row (active, same token version), so a revocation ends it at once.
 */
const VERIFIED_FOR_MS = 60_000;
/** Bounds the memory an attacker could fill with correct-looking entries (it takes a real password). */
const MAX_REMEMBERED = 1000;

export interface OperatorAuthDeps {
  authentication: Authentication;
  auth: Pick<AuthService, 'verifyCredentials' | 'isTokenCurrent'>;
}

/**
 * For operator pages (Bull Board): a platform admin's bearer token, or a platform admin's
 * email and password by HTTP Basic so a browser can prompt. Basic credentials go through the
 * same throttled check as `/auth/login` (per address, per account, one bcrypt every time).
 * Anything else is a 401 with `WWW-Authenticate`, which makes the browser show its dialog.
 */
export function requirePlatformAdminOperator(deps: OperatorAuthDeps): RequestHandler {
  const bearer = deps.authentication.required;
  const verified = new Map<string, { adminId: string; tokenVersion: number; until: number }>();

  const remembered = async (key: string): Promise<boolean> => {
    const entry = verified.get(key);
    if (!entry) return false;
    if (entry.until > Date.now() && (await deps.auth.isTokenCurrent(entry.adminId, entry.tokenVersion))) return true;
    verified.delete(key);
    return false;
  };

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
    const key = createHash('sha256').update(decoded).digest('hex');
    (async () => {
      if (await remembered(key)) return next();
      if (colon <= 0) throw challenge('Sign in with a platform admin email and password.');
      const admin = await deps.auth.verifyCredentials(decoded.slice(0, colon), decoded.slice(colon + 1), req.ip ?? 'unknown').catch((error: unknown) => {
        throw error instanceof UnauthorizedError ? challenge(error.message) : error;
      });
      if (verified.size >= MAX_REMEMBERED) verified.delete(verified.keys().next().value as string);
      verified.set(key, { adminId: admin.id, tokenVersion: admin.tokenVersion, until: Date.now() + VERIFIED_FOR_MS });
      next();
    })().catch(next);
  };
}
