import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { openApiSpec } from './spec';

/** ReDoc's standalone bundle, served from the npm package so the page works offline. */
const REDOC_BUNDLE_DIR = path.join(path.dirname(require.resolve('redoc/package.json')), 'bundles');

const REDOC_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orgms API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><div id="redoc"></div>
<script src="/redoc/assets/redoc.standalone.js"></script>
<script src="/redoc/init.js"></script></body></html>`;

const REDOC_INIT = `Redoc.init('/openapi.json', { hideDownloadButton: false }, document.getElementById('redoc'));`;

/** ReDoc builds a search worker from a blob: URL; the API-wide CSP would block it. */
const allowBlobWorkers: RequestHandler = (_req, res, next) => {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:",
  );
  next();
};

/**
 * @openapi
 * /openapi.json:
 *   get:
 *     tags: [Operations]
 *     security: []
 *     summary: The OpenAPI 3.1 document of this API
 *     description: Anyone may read it. Generated from the route files at start.
 *     responses:
 *       '200':
 *         description: The OpenAPI document.
 *         content:
 *           application/json:
 *             example: { openapi: '3.1.0', info: { title: 'Organization Management Service' } }
 * /docs:
 *   get:
 *     tags: [Operations]
 *     security: []
 *     summary: Swagger UI
 *     description: Interactive documentation; "Authorize" with a bearer token to try routes.
 *     responses:
 *       '200':
 *         description: An HTML page.
 *         content:
 *           text/html:
 *             example: '<!DOCTYPE html>…'
 * /redoc:
 *   get:
 *     tags: [Operations]
 *     security: []
 *     summary: ReDoc reference
 *     description: A readable three-panel reference of the same document, served without any CDN.
 *     responses:
 *       '200':
 *         description: An HTML page.
 *         content:
 *           text/html:
 *             example: '<!doctype html>…'
 */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiSpec());
  });
  router.use('/docs', swaggerUi.serve);
  router.get('/docs', swaggerUi.setup(openApiSpec(), { customSiteTitle: 'orgms API docs' }));
  router.use('/redoc/assets', express.static(REDOC_BUNDLE_DIR, { index: false }));
  router.get('/redoc/init.js', (_req, res) => {
    res.type('application/javascript').send(REDOC_INIT);
  });
  router.get('/redoc', allowBlobWorkers, (_req, res) => {
    res.type('html').send(REDOC_PAGE);
  });
  return router;
}
