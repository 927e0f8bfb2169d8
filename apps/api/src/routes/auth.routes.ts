import { Router } from 'express';
import type { AppContext } from '../app-context';
import { authenticate, requireRole } from '../auth/authenticate';
import { validate, validated } from '../http/validate';
import { loginBody, registerBody } from '../validation/auth.schemas';

interface Credentials {
  email: string;
  password: string;
}

export function authRoutes(ctx: AppContext): Router {
  const router = Router();

  router.post('/auth/login', validate({ body: loginBody }), async (_req, res) => {
    const { email, password } = validated<Credentials>(res, 'body');
    res.json(await ctx.auth.loginPlatformAdmin(email, password));
  });

  router.post('/auth/register', authenticate(ctx.passport), requireRole('platform_admin'), validate({ body: registerBody }), async (_req, res) => {
    const { email, password } = validated<Credentials>(res, 'body');
    const admin = await ctx.auth.registerPlatformAdmin(email, password);
    res.status(201).json({ id: admin.id, email: admin.email, role: 'platform_admin', created_at: admin.createdAt.toISOString() });
  });

  return router;
}
