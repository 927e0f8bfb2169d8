import { Router } from 'express';
import type { ReadinessService } from './readiness.service';

/**
 * @openapi
 * tags: [{ name: Operations }]
 * /health:
 *   get:
 *     security: []
 *     summary: Liveness
 *     description: Anyone. 200 while the process runs; touches no dependency, so a database outage never restarts the API.
 *     responses:
 *       '200': { description: Alive., content: { application/json: { schema: { $ref: '#/components/schemas/Health' }, example: { status: ok } } } }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 * /ready:
 *   get:
 *     security: []
 *     summary: Readiness
 *     description: Anyone. 200 when the control database is migrated (and the bootstrap admin exists) and both it and Redis answer within 1.5 s; 503 otherwise, naming which one is not ready.
 *     responses:
 *       '200': { description: Ready., content: { application/json: { schema: { $ref: '#/components/schemas/Readiness' }, example: { status: ready, checks: { postgres: ok, redis: ok } } } } }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 *       '503': { description: Not ready., content: { application/json: { schema: { $ref: '#/components/schemas/Readiness' }, example: { status: unavailable, checks: { postgres: ok, redis: unavailable } } } } }
 */
export function healthRoutes(readiness: ReadinessService): Router {
  const router = Router();

  /** Liveness: the process answers. Never touches a dependency, so a DB outage does not restart pods. */
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Readiness: the control database is migrated (bootstrap admin included) and answers, and Redis answers. */
  router.get('/ready', async (_req, res) => {
    const checks = await readiness.check();
    const ready = checks.postgres === 'ok' && checks.redis === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });

  return router;
}
