import type { Config, Logger, OrganizationStore, PlatformAdminStore, ProvisioningQueue, TenantConnectionManager } from '@orgms/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type passport from 'passport';
import type { DataSource } from 'typeorm';
import type { LifecycleContext } from './lifecycle-context';
import type { AuthService } from './services/auth.service';
import type { OrgAuthService } from './services/org-auth.service';
import type { OrganizationsService } from './services/organizations.service';
import type { UsersService } from './services/users.service';

/** Everything the routes need, built once by startApiRuntime() and handed to createApp(). */
export interface AppContext {
  config: Config;
  logger: Logger;
  controlDb: DataSource;
  redis: Redis;
  /** Set once the control database is migrated and the bootstrap admin exists: /ready and the route gate read it. */
  readiness: { controlPlane: boolean };
  provisioningQueue: ProvisioningQueue;
  /** A handle on every registered queue, for Bull Board and job metrics. */
  observedQueues: Queue[];
  store: OrganizationStore;
  admins: PlatformAdminStore;
  passport: passport.Authenticator;
  auth: AuthService;
  organizations: OrganizationsService;
  /** Organization databases: always go through this, never open a DataSource per request. */
  tenants: TenantConnectionManager;
  users: UsersService;
  orgAuth: OrgAuthService;
  /** Issue 4: rename/delete/retry, status events (long-poll, SSE), fleet migrations, orphans. */
  lifecycle: LifecycleContext;
}
