import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type RequestHandler, Router } from 'express';
import swaggerUi from 'swagger-ui-express';
import { pageContentSecurityPolicy } from '../http/security-headers';
import { openApiSpec } from './spec';

/** ReDoc's standalone bundle, served from the npm package so the page works offline. */
const REDOC_BUNDLE_DIR = path.join(path.dirname(require.resolve('redoc/package.json')), 'bundles');

/** The one address the bundle loads from a CDN: the Redocly logo in the menu footer. */
const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
/** An empty image in its place: the CSP blocked the CDN (a console error), and offline it fails anyway. */
const EMPTY_SVG = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E";

let redocBundle: string | undefined;
/** Serves the bundle without its CDN address; read once, on first use (about 1 MB, most processes never serve it). */
const localRedocBundle: RequestHandler = (req, res, next) => {
  if (req.path !== '/redoc.standalone.js' || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
  redocBundle ??= readFileSync(path.join(REDOC_BUNDLE_DIR, 'redoc.standalone.js'), 'utf8').replaceAll(REDOC_CDN_LOGO, EMPTY_SVG);
  res.type('application/javascript').send(redocBundle);
};

// `rel=icon` with an empty data URL: otherwise the browser asks for /favicon.ico, a 404 in the console.
const REDOC_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>orgms API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"></head>
<body><div id="redoc"></div>
<script src="/redoc/assets/redoc.standalone.js"></script>
<script src="/redoc/init.js"></script></body></html>`;

const REDOC_INIT = `Redoc.init('/openapi.json', { hideDownloadButton: false }, document.getElementById('redoc'));`;

/** ReDoc builds a search worker from a blob: URL, which the API-wide CSP would block. */
const allowBlobWorkers = pageContentSecurityPolicy({ scriptSrc: ["'self'", 'blob:'], workerSrc: ["'self'", 'blob:'] });

/**
 * @openapi
 * tags: [{ name: Operations }]
 * /openapi.json:
 *   get:
 *     security: []
 *     summary: The OpenAPI 3.1 document of this API
 *     description: Anyone may read it. Generated from the route files and the validation schemas at start.
 *     responses:
 *       '200': { $ref: '#/components/responses/OpenApiDocument' }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 * /docs:
 *   get:
 *     security: []
 *     summary: Swagger UI
 *     description: Interactive documentation; "Authorize" with a bearer token to try routes. Its assets are served below `/docs/`.
 *     responses:
 *       '200': { $ref: '#/components/responses/HtmlPage' }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 * /redoc:
 *   get:
 *     security: []
 *     summary: ReDoc reference
 *     description: A readable three-panel reference of the same document, served without any CDN.
 *     responses:
 *       '200': { $ref: '#/components/responses/HtmlPage' }
 *       '431': { $ref: '#/components/responses/RequestHeadTooLarge' }
 */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiSpec());
  });
  router.use('/docs', swaggerUi.serve);
  router.get('/docs', swaggerUi.setup(openApiSpec(), { customSiteTitle: 'orgms API docs' }));
  router.use('/redoc/assets', localRedocBundle, express.static(REDOC_BUNDLE_DIR, { index: false }));
  router.get('/redoc/init.js', (_req, res) => {
    res.type('application/javascript').send(REDOC_INIT);
  });
  router.get('/redoc', allowBlobWorkers, (_req, res) => {
    res.type('html').send(REDOC_PAGE);
  });
  return router;
}
