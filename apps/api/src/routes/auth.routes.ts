import { Router } from 'express';
import { type Authentication, requireRole } from '../auth/authenticate';
import { validate, validated } from '../http/validate';
import type { AuthService } from '../services/auth.service';
import { loginBody, registerBody } from '../validation/auth.schemas';

/**
 * @openapi
 * /auth/login:
 *   post:
 *     tags: [Auth]
 *     security: []
 *     summary: Log in as a platform admin
 *     description: Anyone may call it. A wrong password and an unknown email give the same 401 in the same time. Throttled per IP and per account (429 with Retry-After).
 *     requestBody:
 *       required: true
 *       content: { application/json: { schema: { $ref: '#/components/schemas/Credentials' } } }
 *     responses:
 *       '200':
 *         description: A bearer token.
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/Token' }
 *             example: { access_token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…, token_type: bearer, expires_in: 3600, user: { id: 5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b, email: admin@example.com, role: platform_admin } }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/LoginFailed' }
 *       '413': { $ref: '#/components/responses/PayloadTooLarge' }
 *       '415': { $ref: '#/components/responses/UnsupportedMediaType' }
 *       '429': { $ref: '#/components/responses/TooManyRequests' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 * /auth/register:
 *   post:
 *     tags: [Auth]
 *     summary: Add another platform admin
 *     description: Platform admins only (the first one comes from BOOTSTRAP_ADMIN_EMAIL/PASSWORD or `npm run admin:create`).
 *     security: [{ bearerAuth: [] }]
 *     requestBody:
 *       required: true
 *       content: { application/json: { schema: { $ref: '#/components/schemas/NewPlatformAdmin' } } }
 *     responses:
 *       '201':
 *         description: The new platform admin.
 *         content:
 *           application/json:
 *             schema: { $ref: '#/components/schemas/PlatformAdmin' }
 *             example: { id: 7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d, email: second@example.com, role: platform_admin, created_at: '2026-11-21T21:20:00.000Z' }
 *       '400': { $ref: '#/components/responses/BadRequest' }
 *       '401': { $ref: '#/components/responses/Unauthorized' }
 *       '403': { $ref: '#/components/responses/Forbidden' }
 *       '409': { $ref: '#/components/responses/Conflict' }
 *       '413': { $ref: '#/components/responses/PayloadTooLarge' }
 *       '415': { $ref: '#/components/responses/UnsupportedMediaType' }
 *       '503': { $ref: '#/components/responses/ServiceUnavailable' }
 */
/** Platform admins' login and registration. */
export function authRoutes({ authentication, auth }: { authentication: Authentication; auth: AuthService }): Router {
  const router = Router();

  router.post('/auth/login', validate({ body: loginBody }), async (req, res) => {
    const { email, password } = validated(res, loginBody);
    res.json(await auth.loginPlatformAdmin(email, password, req.ip ?? 'unknown'));
  });

  router.post('/auth/register', authentication.required, requireRole('platform_admin'), validate({ body: registerBody }), async (_req, res) => {
    const { email, password } = validated(res, registerBody);
    res.status(201).json(await auth.registerPlatformAdmin(email, password));
  });

  return router;
}
