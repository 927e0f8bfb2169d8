import type { Config, Logger, OrganizationStore, ProvisioningQueue } from '@orgms/common';
import type { Redis } from 'ioredis';
import type passport from 'passport';
import type { DataSource } from 'typeorm';
import type { AuthService } from './services/auth.service';
import type { OrganizationsService } from './services/organizations.service';

/** Everything the routes need, built once by createApiContext() and handed to createApp(). */
export interface AppContext {
  config: Config;
  logger: Logger;
  controlDb: DataSource;
  redis: Redis;
  provisioningQueue: ProvisioningQueue;
  store: OrganizationStore;
  passport: passport.Authenticator;
  auth: AuthService;
  organizations: OrganizationsService;
}
