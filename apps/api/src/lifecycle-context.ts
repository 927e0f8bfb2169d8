import {
  type Config,
  createMigrationsQueue,
  DatabaseAdmin,
  findOrphans,
  type Logger,
  MigrationRunStore,
  type MigrationsQueue,
  type OrganizationStore,
  type Orphan,
  type ProvisioningQueue,
} from '@orgms/common';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { OrganizationEventsHub } from './events/organization-events-hub';
import { OrganizationLifecycleService } from './services/organization-lifecycle.service';

/** The parts issue 4 adds to the API (rename/delete/retry, status push, fleet migrations, orphans). */
export interface LifecycleContext {
  service: OrganizationLifecycleService;
  events: OrganizationEventsHub;
  migrationRuns: MigrationRunStore;
  migrationsQueue: MigrationsQueue;
  findOrphans: () => Promise<Orphan[]>;
  close: () => Promise<void>;
}

export interface LifecycleDeps {
  config: Config;
  logger: Logger;
  controlDb: DataSource;
  redis: Redis;
  store: OrganizationStore;
  provisioningQueue: ProvisioningQueue;
  /** Called when the worker is about to drop an organization's database: close this replica's pools for it. */
  evictTenant: (orgId: string) => Promise<void> | void;
}

export function createLifecycleContext(deps: LifecycleDeps): LifecycleContext {
  const { config, logger, store } = deps;
  const events = new OrganizationEventsHub(config, logger, deps.evictTenant);
  const migrationsQueue = createMigrationsQueue(config, deps.redis);
  return {
    service: new OrganizationLifecycleService({ store, provisioningQueue: deps.provisioningQueue, logger }),
    events,
    migrationRuns: new MigrationRunStore(deps.controlDb),
    migrationsQueue,
    async findOrphans() {
      const admin = await DatabaseAdmin.connect(config);
      try {
        return await findOrphans(admin, store, config.orgDatabasePrefix);
      } finally {
        await admin.close();
      }
    },
    async close() {
      await Promise.allSettled([events.close(), migrationsQueue.close()]);
    },
  };
}
