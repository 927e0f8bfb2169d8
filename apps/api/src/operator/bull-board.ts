import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { type RequestHandler, Router } from 'express';
import type { AppContext } from '../app-context';
import { requirePlatformAdminOperator } from './operator-auth';

export const BULL_BOARD_PATH = '/admin/queues';

/**
 * Bull Board's page links a Google Fonts stylesheet, and its scripts wait for that stylesheet: on a
 * network that drops packets to Google instead of refusing them, the board stays on "Loading"
 * (reproduced by holding that one request: still "Loading" after 8 s; without the link it renders
 * at once). The page falls back to system fonts, the CSP would refuse the stylesheet anyway, and an
 * operator page must not depend on a CDN.
 */
const GOOGLE_FONTS_LINK = /<link[^>]*fonts\.googleapis\.com[^>]*>\s*/g;
const withoutFontCdn: RequestHandler = (req, res, next) => {
  if (req.method !== 'GET') return next();
  const send = res.send;
  // Only the entry page is an HTML document; API answers (JSON strings) pass through untouched.
  res.send = function (this: typeof res, body?: unknown) {
    return send.call(this, typeof body === 'string' && body.startsWith('<!DOCTYPE html>') ? body.replace(GOOGLE_FONTS_LINK, '') : body);
  };
  next();
};

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
  const board = serverAdapter.getRouter() as { disable?: (setting: string) => void } & RequestHandler;
  board.disable?.('x-powered-by'); // Bull Board's own Express app would announce itself again
  // The API-wide CSP suits the board (its scripts are files, its inline styles are allowed).
  router.use(BULL_BOARD_PATH, requirePlatformAdminOperator(ctx), withoutFontCdn, board);
  return router;
}
