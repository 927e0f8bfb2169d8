import { ServiceUnavailableError } from '@orgms/common';
import express, { type Express, type RequestHandler } from 'express';
import type { AppContext } from './app-context';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { requestContext } from './http/request-context';
import { securityHeaders } from './http/security-headers';
import { docsRoutes } from './openapi/docs.routes';
import { operatorTools } from './operator';
import { authRoutes } from './routes/auth.routes';
import { compatRoutes } from './routes/compat.routes';
import { healthRoutes } from './routes/health.routes';
import { migrationsRoutes } from './routes/migrations.routes';
import { orgAuthRoutes } from './routes/org-auth.routes';
import { organizationLifecycleRoutes } from './routes/organization-lifecycle.routes';
import { organizationsRoutes } from './routes/organizations.routes';
import { usersRoutes } from './routes/users.routes';

/** Routes below this answer 503 until the control database is migrated and the bootstrap admin exists. */
function requireControlDatabase(ctx: AppContext): RequestHandler {
  return (_req, _res, next) =>
    next(ctx.readiness.controlPlane ? undefined : new ServiceUnavailableError('The control database is not ready yet; try again shortly.'));
}

/** The Express app, without listening: tests drive it with supertest, main.ts binds it to a port. */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-* are believed only from the proxies TRUST_PROXY names (none by default).
  app.set('trust proxy', ctx.config.trustProxy);
  const operator = operatorTools(ctx);
  app.use(requestContext(ctx.logger));
  app.use(operator.observe);
  app.use(securityHeaders(ctx.config));
  app.use(healthRoutes(ctx));
  app.use(docsRoutes());
  app.use(...operator.routers);
  app.use(jsonBody(ctx.config.bodyLimit));
  app.use(requireControlDatabase(ctx));
  app.use(authRoutes(ctx));
  app.use(organizationsRoutes(ctx));
  app.use(organizationLifecycleRoutes(ctx));
  app.use(migrationsRoutes(ctx));
  app.use(orgAuthRoutes(ctx));
  app.use(usersRoutes(ctx));
  app.use(compatRoutes(ctx));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}
