import {
  type Config,
  closeRedis,
  connectControlPlane,
  createControlDataSource,
  createProvisioningQueue,
  createRedis,
  type Logger,
  OrganizationStore,
  openQueue,
  PlatformAdminStore,
  QUEUES,
  redisEventPublisher,
  shutdownInOrder,
  TenantConnectionManager,
} from '@orgms/common';
import type { Express } from 'express';
import { createApp } from './app';
import type { AppContext } from './app-context';
import { createPassport } from './auth/authenticate';
import { LoginThrottle } from './auth/login-throttle';
import { TokenIssuer } from './auth/tokens';
import { createLifecycleContext } from './lifecycle-context';
import { AuthService } from './services/auth.service';
import { OrgAuthService } from './services/org-auth.service';
import { OrganizationsService } from './services/organizations.service';
import { UsersService } from './services/users.service';

export interface ApiRuntime {
  app: Express;
  context: AppContext;
  /** Resolves once the control database is migrated and the bootstrap admin exists (then /ready may say so). */
  ready: Promise<void>;
  /** Closes pools and Redis (the HTTP server, if any, is closed by its owner first). */
  stop: () => Promise<boolean>;
}

/** Wires the API's dependencies. Starts even when PostgreSQL or Redis is down; /ready tells. */
export function startApiRuntime(config: Config, logger: Logger): ApiRuntime {
  const controlDb = createControlDataSource(config);
  const redis = createRedis(config, 'api');
  const provisioningQueue = createProvisioningQueue(config, redis);
  // Status changes made here (delete, retry) are published like the worker's, for every replica's streams.
  const store = new OrganizationStore(controlDb, redisEventPublisher(redis, config));
  const tenants = TenantConnectionManager.fromConfig(config, logger);
  // Deleting an org: the worker publishes `evict` and every replica closes its pools for it.
  const lifecycle = createLifecycleContext({ config, logger, controlDb, redis, store, provisioningQueue, evictTenant: (orgId) => tenants.evict(orgId) });
  // Bull Board and the job metrics watch every queue, through the handles this process already has.
  const maintenanceQueue = openQueue(QUEUES.maintenance, config, redis);
  const admins = new PlatformAdminStore(controlDb);
  const tokens = new TokenIssuer(config);
  const throttle = new LoginThrottle(
    redis,
    {
      keyPrefix: `${config.queuePrefix}:rl:`,
      windowMs: config.loginRateLimitWindowMs,
      perIp: config.loginRateLimitPerIp,
      perAccount: config.loginRateLimitPerAccount,
    },
    logger,
  );
  const readiness = { controlPlane: false };
  const context: AppContext = {
    config,
    logger,
    controlDb,
    redis,
    readiness,
    provisioningQueue,
    observedQueues: [provisioningQueue, maintenanceQueue, lifecycle.migrationsQueue],
    store,
    admins,
    passport: createPassport(config, admins),
    auth: new AuthService(admins, tokens, throttle, config.bcryptRounds),
    organizations: new OrganizationsService({ config, store, provisioningQueue, logger }),
    tenants,
    users: new UsersService(tenants, config),
    orgAuth: new OrgAuthService(store, tenants, tokens, throttle, config),
    lifecycle,
  };

  const abort = new AbortController();
  // Ready means ready to serve every route: migrated, and the bootstrap admin can log in.
  const ready = (async () => {
    if (!(await connectControlPlane(controlDb, config, logger, abort.signal, () => ensureBootstrapAdmin(admins, config, logger)))) return;
    readiness.controlPlane = true;
  })();

  const stop = () =>
    shutdownInOrder(
      [
        { name: 'stop connecting', run: async () => abort.abort() },
        { name: 'close queues', run: () => Promise.all([provisioningQueue.close(), maintenanceQueue.close()]) },
        { name: 'close lifecycle (event subscription, migrations queue)', run: () => context.lifecycle.close() },
        { name: 'close tenant pools', run: () => tenants.close() },
        { name: 'close control database', run: async () => controlDb.isInitialized && controlDb.destroy() },
        { name: 'close redis', run: () => closeRedis(redis) },
      ],
      config.shutdownTimeoutMs,
      logger,
    );

  return { app: createApp(context), context, ready, stop };
}

async function ensureBootstrapAdmin(admins: PlatformAdminStore, config: Config, logger: Logger): Promise<void> {
  if (!config.bootstrapAdminEmail || !config.bootstrapAdminPassword) return;
  const outcome = await admins.ensure(config.bootstrapAdminEmail, config.bootstrapAdminPassword, config.bcryptRounds);
  logger.info('bootstrap platform admin', { email: config.bootstrapAdminEmail.toLowerCase(), outcome });
}
