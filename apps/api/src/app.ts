import { ServiceUnavailableError } from '@orgms/common';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { AppContext } from './app-context';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { jsonBody } from './http/json-body';
import { requestContext } from './http/request-context';
import { authRoutes } from './routes/auth.routes';
import { healthRoutes } from './routes/health.routes';
import { organizationsRoutes } from './routes/organizations.routes';

/** Routes below this answer 503 until the control database is connected and migrated. */
function requireControlDatabase(ctx: AppContext): RequestHandler {
  return (_req, _res, next) =>
    next(ctx.controlDb.isInitialized ? undefined : new ServiceUnavailableError('The control database is not reachable yet; try again shortly.'));
}

/** The Express app, without listening: tests drive it with supertest, main.ts binds it to a port. */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestContext(ctx.logger));
  app.use(helmet());
  app.use(healthRoutes(ctx));
  app.use(jsonBody(ctx.config.bodyLimit));
  app.use(requireControlDatabase(ctx));
  app.use(authRoutes(ctx));
  app.use(organizationsRoutes(ctx));
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.logger));
  return app;
}
