import { withTimeout } from '@orgms/common';
import { Router } from 'express';
import type { AppContext } from '../app-context';

const CHECK_TIMEOUT_MS = 1500;

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  try {
    await withTimeout(probe(), CHECK_TIMEOUT_MS, 'readiness check');
    return 'ok';
  } catch {
    return 'unavailable';
  }
}

/**
 * @openapi
 * /health:
 *   get:
 *     tags: [Operations]
 *     security: []
 *     summary: Liveness
 *     description: Anyone. 200 while the process runs; touches no dependency, so a database outage never restarts the API.
 *     responses:
 *       '200': { description: Alive., content: { application/json: { schema: { $ref: '#/components/schemas/Health' }, example: { status: ok } } } }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 * /ready:
 *   get:
 *     tags: [Operations]
 *     security: []
 *     summary: Readiness
 *     description: Anyone. 200 when the control database is migrated (and the bootstrap admin exists) and both it and Redis answer within 1.5 s; 503 otherwise, naming which one is not ready.
 *     responses:
 *       '200': { description: Ready., content: { application/json: { schema: { $ref: '#/components/schemas/Readiness' }, example: { status: ready, checks: { postgres: ok, redis: ok } } } } }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 *       '503': { description: Not ready., content: { application/json: { schema: { $ref: '#/components/schemas/Readiness' }, example: { status: unavailable, checks: { postgres: ok, redis: unavailable } } } } }
 */
export function healthRoutes(ctx: AppContext): Router {
  const router = Router();

  /** Liveness: the process answers. Never touches a dependency, so a DB outage does not restart pods. */
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Readiness: the control database is migrated (bootstrap admin included) and answers, and Redis answers. */
  router.get('/ready', async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      check(async () => {
        if (!ctx.readiness.controlPlane) throw new Error('not migrated yet');
        await ctx.controlDb.query('SELECT 1');
      }),
      check(() => ctx.redis.ping()),
    ]);
    const ready = postgres === 'ok' && redis === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } });
  });

  return router;
}
