import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { type RequestHandler, Router } from 'express';
import type { AppContext } from '../app-context';
import { requirePlatformAdminOperator } from './operator-auth';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * @openapi
 * /admin/queues:
 *   get:
 *     tags: [Operations]
 *     summary: Bull Board (queue dashboard)
 *     description: |
 *       Platform admins only, by HTTP Basic (email and password, so a browser prompts) or a bearer token. Shows every
 *       queue (provisioning, maintenance, migrations), their jobs, progress (the organization's name and step) and failures.
 *     security: [{ basicAuth: [] }, { bearerAuth: [] }]
 *     responses:
 *       '200': { description: The dashboard (HTML)., content: { text/html: { example: '<!DOCTYPE html>…' } } }
 *       '401':
 *         description: 'Not a platform admin; the answer carries a Basic WWW-Authenticate challenge.'
 *         headers: { WWW-Authenticate: { schema: { type: string, example: 'Basic realm="orgms operators", charset="UTF-8"' } } }
 *         content: { application/problem+json: { schema: { $ref: '#/components/schemas/Problem' } } }
 */
export function bullBoard(ctx: AppContext, queues: Queue[]): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'orgms queues' } },
  });
  const router = Router();
  // Bull Board's page uses inline scripts and styles, which the API-wide helmet CSP forbids.
  const relaxCsp: RequestHandler = (_req, res, next) => {
    res.removeHeader('Content-Security-Policy');
    next();
  };
  const board = serverAdapter.getRouter() as { disable?: (setting: string) => void } & RequestHandler;
  board.disable?.('x-powered-by'); // Bull Board's own Express app would announce itself again
  router.use(BULL_BOARD_PATH, requirePlatformAdminOperator(ctx), relaxCsp, board);
  return router;
}
