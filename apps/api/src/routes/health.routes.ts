import { Router } from 'express';
import type { AppContext } from '../app-context';

const CHECK_TIMEOUT_MS = 1500;

async function check(probe: () => Promise<unknown>): Promise<'ok' | 'unavailable'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([probe(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(ctx: AppContext): Router {
  const router = Router();

  /** Liveness: the process answers. Never touches a dependency, so a DB outage does not restart pods. */
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  /** Readiness: PostgreSQL (control database) and Redis both answer. */
  router.get('/ready', async (_req, res) => {
    const [postgres, redis] = await Promise.all([
      check(async () => {
        if (!ctx.controlDb.isInitialized) throw new Error('not connected');
        await ctx.controlDb.query('SELECT 1');
      }),
      check(() => ctx.redis.ping()),
    ]);
    const ready = postgres === 'ok' && redis === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks: { postgres, redis } });
  });

  return router;
}
