import {
  type Config,
  connectControlPlane,
  createControlDataSource,
  createProvisioningQueue,
  createRedis,
  ensurePlatformAdmin,
  type Logger,
  OrganizationStore,
  shutdownInOrder,
} from '@orgms/common';
import type { Express } from 'express';
import { createApp } from './app';
import type { AppContext } from './app-context';
import { createPassport } from './auth/authenticate';
import { TokenIssuer } from './auth/tokens';
import { OrganizationsRepository } from './repositories/organizations.repository';
import { AuthService } from './services/auth.service';
import { OrganizationsService } from './services/organizations.service';

export interface ApiRuntime {
  app: Express;
  context: AppContext;
  /** Resolves once the control database is migrated and the bootstrap admin exists. */
  ready: Promise<void>;
  /** Closes pools and Redis (the HTTP server, if any, is closed by its owner first). */
  stop: () => Promise<boolean>;
}

/** Wires the API's dependencies. Starts even when PostgreSQL or Redis is down; /ready tells. */
export function startApiRuntime(config: Config, logger: Logger): ApiRuntime {
  const controlDb = createControlDataSource(config);
  const redis = createRedis(config, 'api');
  const provisioningQueue = createProvisioningQueue(config, redis);
  const store = new OrganizationStore(controlDb);
  const context: AppContext = {
    config,
    logger,
    controlDb,
    redis,
    provisioningQueue,
    store,
    passport: createPassport(config),
    auth: new AuthService(controlDb, new TokenIssuer(config), config),
    organizations: new OrganizationsService({ config, repository: new OrganizationsRepository(controlDb), store, provisioningQueue, logger }),
  };

  const abort = new AbortController();
  const ready = (async () => {
    if (!(await connectControlPlane(controlDb, config, logger, abort.signal))) return;
    if (config.bootstrapAdminEmail && config.bootstrapAdminPassword) {
      const outcome = await ensurePlatformAdmin(controlDb, config.bootstrapAdminEmail, config.bootstrapAdminPassword, config.bcryptRounds);
      logger.info('bootstrap platform admin', { email: config.bootstrapAdminEmail.toLowerCase(), outcome });
    }
  })();

  const stop = () =>
    shutdownInOrder(
      [
        { name: 'stop connecting', run: async () => abort.abort() },
        { name: 'close queue', run: () => provisioningQueue.close() },
        { name: 'close control database', run: async () => controlDb.isInitialized && controlDb.destroy() },
        { name: 'close redis', run: () => redis.quit() },
      ],
      config.shutdownTimeoutMs,
      logger,
    );

  return { app: createApp(context), context, ready, stop };
}
