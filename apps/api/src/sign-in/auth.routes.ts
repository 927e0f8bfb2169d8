import { Router } from 'express';
import { validate, validated } from '../http/validate';
import { loginBody, refreshTokenBody, registerBody } from './auth.schemas';
import type { AuthService } from './auth.service';
import { type Authentication, requireRole } from './authenticate';
import type { SessionsService } from './sessions.service';

/**
 * @openapi
 * tags: [{ name: Auth }]
 * /auth/login:
 *   post:
 *     security: []
 *     summary: Log in as a platform admin
 *     description: Anyone may call it. A wrong password and an unknown email give the same 401 in the same time. Throttled per IP and per account (429 with Retry-After). Answers an access token and a refresh token (`POST /auth/refresh`). Audited, failures too (without the email or password).
 *     requestBody: { $ref: '#/components/requestBodies/Credentials' }
 *     x-problems: [LoginFailed, TooManyRequests]
 *     responses:
 *       '200': { $ref: '#/components/responses/PlatformAdminSession' }
 * /auth/refresh:
 *   post:
 *     security: []
 *     summary: Trade a refresh token for a new access token and refresh token
 *     description: |
 *       For platform admins and organization users alike (the refresh token says whose it is). Each refresh token can be
 *       traded once: the answer carries its successor. Presenting one that was already traded revokes every refresh token
 *       descended from the same login (someone else holds a copy) and answers 401, as do expired and revoked ones and those
 *       of an account whose password, role or activity changed, or that was removed. An organization user's refresh token
 *       answers 401 once its organization was deleted (the delete revoked it, and a restore does not bring it back) or
 *       purged, and 409 with `organization_status` while its organization is `pending`, `provisioning` or `failed` (the token is not
 *       spent). Each refresh counts against the client address's login limit (LOGIN_RATE_LIMIT_PER_IP; 429 with Retry-After).
 *     requestBody: { $ref: '#/components/requestBodies/RefreshToken' }
 *     x-problems: [RefreshRefused, RefreshOrganizationNotServing, TooManyRequests]
 *     responses:
 *       '200': { $ref: '#/components/responses/RefreshedSession' }
 * /auth/logout:
 *   post:
 *     security: []
 *     summary: End a session (revoke its refresh tokens)
 *     description: |
 *       Revokes the refresh token and every other one of its login. Always 204 for a well-formed token, known or not, so it
 *       tells nothing. Access tokens already issued stay valid until they expire (JWT_EXPIRES_IN, 15 minutes by default).
 *     requestBody: { $ref: '#/components/requestBodies/RefreshToken' }
 *     x-problems: []
 *     responses:
 *       '204': { description: Logged out. }
 * /auth/register:
 *   post:
 *     summary: Add another platform admin
 *     description: Platform admins only (the first one comes from BOOTSTRAP_ADMIN_EMAIL/PASSWORD or `npm run admin:create`).
 *     requestBody: { $ref: '#/components/requestBodies/NewPlatformAdmin' }
 *     x-problems: [Forbidden, Conflict]
 *     responses:
 *       '201': { $ref: '#/components/responses/RegisteredPlatformAdmin' }
 */
/** Platform admins' login and registration; refresh and logout of every session. */
export function authRoutes({ authentication, auth, sessions }: { authentication: Authentication; auth: AuthService; sessions: SessionsService }): Router {
  const router = Router();

  router.post('/auth/login', validate({ body: loginBody }), async (req, res) => {
    const { email, password } = validated(res, loginBody);
    res.json(await auth.loginPlatformAdmin(email, password, req.ip ?? 'unknown'));
  });

  router.post('/auth/refresh', validate({ body: refreshTokenBody }), async (req, res) => {
    res.json(await sessions.refresh(validated(res, refreshTokenBody).refresh_token, req.ip ?? 'unknown'));
  });

  router.post('/auth/logout', validate({ body: refreshTokenBody }), async (_req, res) => {
    await sessions.logout(validated(res, refreshTokenBody).refresh_token);
    res.status(204).end();
  });

  router.post('/auth/register', authentication.required, requireRole('platform_admin'), validate({ body: registerBody }), async (_req, res) => {
    const { email, password } = validated(res, registerBody);
    res.status(201).json(await auth.registerPlatformAdmin(email, password));
  });

  return router;
}
