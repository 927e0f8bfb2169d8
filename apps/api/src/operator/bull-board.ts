import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { HttpConfig } from '@orgms/common/config';
import { ForbiddenError } from '@orgms/common/errors';
import type { Queue } from 'bullmq';
import { type RequestHandler, Router } from 'express';
import { sendsNonJsonBody } from '../http/json-body';
import { type OperatorAuthDeps, requirePlatformAdminOperator } from './operator-auth';

export const BULL_BOARD_PATH = '/admin/queues';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The dashboard authenticates by HTTP Basic, which a browser attaches to any request for this
 * origin, including a form or a `text/plain` fetch from another site (cross-site request forgery). So a
 * state change is refused unless it is demonstrably same-origin: `Sec-Fetch-Site` (sent by every
 * current browser) must be same-origin or none, `Origin` (sent with every cross-site write) must be
 * ours, and any body must be JSON, which no page of another site can send here without a CORS
 * preflight, and we answer no preflight. Scripts without these headers (curl) still work.
 */
export function refuseCrossSiteChanges(http: Pick<HttpConfig, 'publicUrl'>): RequestHandler {
  const publicOrigin = http.publicUrl === undefined ? undefined : new URL(http.publicUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.get('Sec-Fetch-Site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      return next(new ForbiddenError(`The queue dashboard accepts changes only from its own pages (Sec-Fetch-Site: ${site}).`));
    }
    const origin = req.get('Origin')?.toLowerCase();
    // Our origin as Express sees it: the scheme honours X-Forwarded-Proto only from trusted proxies.
    const own = `${req.protocol}://${req.host}`.toLowerCase();
    if (origin !== undefined && origin !== own && origin !== publicOrigin) {
      return next(new ForbiddenError('The queue dashboard accepts changes only from its own origin.'));
    }
    if (sendsNonJsonBody(req)) {
      return next(new ForbiddenError('The queue dashboard accepts only application/json request bodies.'));
    }
    next();
  };
}

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
 * tags: [{ name: Operations }]
 * /admin/queues:
 *   get:
 *     summary: Bull Board (queue dashboard)
 *     description: |
 *       Platform admins only, by HTTP Basic (email and password, so a browser prompts) or a bearer token. Shows every
 *       queue (provisioning, maintenance, migrations), their jobs, progress (the organization's name and step) and failures.
 *       The Basic sign-in is throttled like the logins (429 with Retry-After). The page's own assets and API live below
 *       this path, behind the same check.
 *     security: [{ basicAuth: [] }, { bearerAuth: [] }]
 *     x-problems: [TooManyRequests]
 *     responses:
 *       '200': { $ref: '#/components/responses/HtmlPage', description: The dashboard (HTML). }
 *       '401': { $ref: '#/components/responses/OperatorUnauthorized' }
 */
export function bullBoard(deps: OperatorAuthDeps & { http: Pick<HttpConfig, 'publicUrl'>; queues: Queue[] }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: deps.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'orgms queues' } },
  });
  const router = Router();
  const board = serverAdapter.getRouter() as { disable?: (setting: string) => void } & RequestHandler;
  board.disable?.('x-powered-by'); // Bull Board's own Express app would announce itself again
  // Cross-site writes are refused before authentication: no credentials make them acceptable.
  // The API-wide CSP suits the board (its scripts are files, its inline styles are allowed).
  router.use(BULL_BOARD_PATH, refuseCrossSiteChanges(deps.http), requirePlatformAdminOperator(deps), withoutFontCdn, board);
  return router;
}
