import { randomUUID } from 'node:crypto';
import { AuditLogStore } from '@orgms/common/audit/audit-log-store';
import { type Clock, systemClock } from '@orgms/common/clock';
import type { AuthConfig, Config } from '@orgms/common/config';
import { OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { createControlDataSource } from '@orgms/common/database/control-data-source';
import { connectControlPlane } from '@orgms/common/database/control-plane-startup';
import { type OrganizationEventPublisher, redisEventPublisher } from '@orgms/common/events/organization-events';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { prepareFleet } from '@orgms/common/fleet/fleet-startup';
import { PlacementService } from '@orgms/common/fleet/placement-service';
import { ServerDirectory } from '@orgms/common/fleet/server-directory';
import { lockDownServer } from '@orgms/common/fleet/server-lockdown';
import { probeServer, ServerReachability } from '@orgms/common/fleet/server-probe';
import { TenantRoleStore } from '@orgms/common/fleet/tenant-role-store';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { enqueueDatabaseLimits } from '@orgms/common/limits/database-limits-jobs';
import { defaultLimits } from '@orgms/common/limits/organization-limits';
import { type OrganizationLimitsRow, OrganizationLimitsStore } from '@orgms/common/limits/organization-limits-store';
import type { Logger } from '@orgms/common/logger';
import { IdempotencyKeyStore } from '@orgms/common/organizations/idempotency-key-store';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { shutdownInOrder } from '@orgms/common/process/shutdown';
import { createMigrationsQueue, type MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { createProvisioningQueue, organizationJobs, type ProvisioningQueue } from '@orgms/common/queues/provisioning-queue';
import { openQueue } from '@orgms/common/queues/queue-handles';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { QUEUES } from '@orgms/common/queues/registry';
import { createTenantWorkQueue, type TenantWorkQueue } from '@orgms/common/queues/tenant-work-queue';
import { createWebhooksQueue, type WebhooksQueue } from '@orgms/common/queues/webhooks-queue';
import { currentContext } from '@orgms/common/request-context';
import { SecretBox } from '@orgms/common/secret-box';
import { PlatformAdminStore } from '@orgms/common/sign-in/platform-admin-store';
import { RefreshTokenStore } from '@orgms/common/sign-in/refresh-token-store';
import { WebhookStore } from '@orgms/common/webhooks/webhook-store';
import type { Queue } from 'bullmq';
import type { Express } from 'express';
import { type ApiServices, createApp } from './app';
import { AuditService } from './audit/audit.service';
import { OrganizationBackupsService } from './data-safety/organization-backups.service';
import { OrganizationExportsService } from './data-safety/organization-exports.service';
import { InvalidatedCache } from './events/invalidated-cache';
import { OrganizationEventsHub } from './events/organization-events-hub';
import { DatabaseServersService } from './fleet/database-servers.service';
import { DrainsService } from './fleet/drains.service';
import { MovesService } from './fleet/moves.service';
import { OrphansService } from './fleet/orphans.service';
import { MigrationRunsService } from './fleet-migrations/migration-runs.service';
import { JobHandover } from './http/job-handover';
import { DatabaseLimitRunsService } from './limits/database-limit-runs.service';
import { FairAdmission } from './limits/fair-admission';
import { LimitsService } from './limits/limits.service';
import { OrganizationLimitsReader } from './limits/organization-limits-reader';
import { PasswordHashing } from './limits/password-hashing';
import { RequestRates } from './limits/request-rates';
import { ReadinessService } from './operator/readiness.service';
import { IdempotentRequests } from './organizations/idempotent-requests';
import { OrganizationsService } from './organizations/organizations.service';
import { AuthService, type CachedAuthState } from './sign-in/auth.service';
import { LoginThrottle } from './sign-in/login-throttle';
import { OrgAuthService } from './sign-in/org-auth.service';
import { SessionsService } from './sign-in/sessions.service';
import { SignupThrottle } from './sign-in/signup-throttle';
import { durationToSeconds, TokenIssuer } from './sign-in/tokens';
import { WindowCounter } from './sign-in/window-counter';
import { TenantDatabases } from './tenancy/tenant-databases';
import { TenantLogins } from './tenancy/tenant-logins';
import { UsersService } from './users/users.service';
import { WebhooksService } from './webhooks/webhooks.service';

/** The control-plane stores, one per table group, each the only code that reads or writes its tables. */
export interface ApiStores {
  organizations: OrganizationStore;
  platformAdmins: PlatformAdminStore;
  trackedRuns: TrackedRunStore;
  databaseServers: DatabaseServerStore;
  idempotencyKeys: IdempotencyKeyStore;
  /** Exports, archives and backups. */
  organizationDumps: OrganizationDumpStore;
  webhooks: WebhookStore;
  refreshTokens: RefreshTokenStore;
  auditLog: AuditLogStore;
  organizationLimits: OrganizationLimitsStore;
}

/** How long an Idempotency-Key is remembered per caller. */
const IDEMPOTENCY_KEY_TTL_MS = 24 * 3600 * 1000;

export interface ApiQueues {
  provisioning: ProvisioningQueue;
  /** Exports and moves (organizations' own work), apart from provisioning. */
  tenantWork: TenantWorkQueue;
  maintenance: Queue;
  migrations: MigrationsQueue;
  /** Only watched here (Bull Board, metrics): the worker adds and runs its jobs. */
  webhooks: WebhooksQueue;
}

/**
 * One API process, wired. Besides the app, it shows its services, stores and queue handles, so
 * tests can call and inspect them without reaching into how they are built.
 */
export interface ApiRuntime {
  app: Express;
  services: ApiServices;
  stores: ApiStores;
  queues: ApiQueues;
  /** This process's organization-database pools, per database server. */
  tenantPools: TenantDatabases;
  /** Resolves once the control database is migrated and the bootstrap admin exists (then /ready may say so). */
  ready: Promise<void>;
  /** Each organization's limits as the request path reads them (cached per replica). */
  limits: OrganizationLimitsReader;
  /** Closes pools and Redis (the HTTP server, if any, is closed by its owner first). */
  stop: () => Promise<boolean>;
}

export interface ApiOptions {
  /** Where expiries and grace periods take their time from (tests move it). */
  clock?: Clock;
}

/** Wires the API's dependencies once. Starts even when PostgreSQL or Redis is down; /ready tells. */
export function startApiRuntime(config: Config, logger: Logger, options: ApiOptions = {}): ApiRuntime {
  const clock = options.clock ?? systemClock;
  const controlDb = createControlDataSource(config.database);
  const redis = createRedis(config.queue, 'api');
  // Bull Board and the job metrics watch every queue, through the handles this process already has.
  const queues: ApiQueues = {
    provisioning: createProvisioningQueue(config.queue, redis),
    tenantWork: createTenantWorkQueue(config.queue, redis),
    maintenance: openQueue(QUEUES.maintenance, config.queue, redis),
    migrations: createMigrationsQueue(config.queue, redis),
    webhooks: createWebhooksQueue(config.queue, redis),
  };
  // Rows every request reads, cached per replica while the pub/sub subscription that invalidates them is up.
  const isLive = () => events.isLive;
  const organizationRows = new InvalidatedCache<Organization>({ isLive, maxEntries: 20000 });
  const adminAuthStates = new InvalidatedCache<CachedAuthState>({ isLive, maxEntries: 1000 });
  const limitRows = new InvalidatedCache<OrganizationLimitsRow>({ isLive, maxEntries: 20000 });
  const forgetCached = (change: { orgId: string } | { adminId: string }) => {
    if ('adminId' in change) return adminAuthStates.invalidate(change.adminId);
    organizationRows.invalidate(change.orgId);
    limitRows.invalidate(change.orgId);
  };
  // Changes made here (create, delete, retry, rename…) are published like the worker's, for every
  // replica's streams and caches; this replica forgets its own copy at once, before it answers.
  const redisPublisher = redisEventPublisher(redis, config.queue);
  const publisher: OrganizationEventPublisher = {
    publish(message) {
      forgetCached(message.type === 'admin-changed' ? { adminId: message.adminId } : { orgId: message.orgId });
      redisPublisher.publish(message);
    },
  };
  const secrets = new SecretBox(config.secrets.current, config.secrets.previous);
  const stores: ApiStores = {
    organizations: new OrganizationStore(controlDb, publisher, clock),
    platformAdmins: new PlatformAdminStore(controlDb, publisher),
    trackedRuns: new TrackedRunStore(controlDb),
    databaseServers: new DatabaseServerStore(controlDb, secrets),
    organizationDumps: new OrganizationDumpStore(controlDb, clock),
    webhooks: new WebhookStore(controlDb, new SecretBox(config.secrets.current, config.secrets.previous)),
    idempotencyKeys: new IdempotencyKeyStore(controlDb, IDEMPOTENCY_KEY_TTL_MS, clock),
    refreshTokens: new RefreshTokenStore(controlDb, clock),
    auditLog: new AuditLogStore(controlDb, clock),
    organizationLimits: new OrganizationLimitsStore(controlDb, { clock, events: publisher }),
  };
  const defaults = defaultLimits(config.limits);
  const limits = new OrganizationLimitsReader(stores.organizationLimits, defaults, limitRows);
  const servers = new ServerDirectory(stores.databaseServers);
  const logins = new TenantLogins({ roles: new TenantRoleStore(controlDb, secrets), logger });
  const tenantPools = new TenantDatabases({ servers, pools: config.tenancy.pools, logins, logger });
  const events: OrganizationEventsHub = new OrganizationEventsHub(config.queue, logger, {
    // Deleting or moving an org: the worker publishes `evict` and every replica closes its pools for it.
    evict: (orgId) => tenantPools.evict(orgId),
    invalidate: forgetCached,
    reset: () => {
      organizationRows.clear();
      adminAuthStates.clear();
      limitRows.clear();
    },
  });
  const { bcryptRounds } = config.auth;
  const placement = new PlacementService({ servers, reachability: new ServerReachability() });
  const jobs = organizationJobs(queues);
  const tokens = new TokenIssuer(config.auth.jwt, clock);
  const rateLimits = new WindowCounter(redis, logger);
  const rateLimitPrefix = `${config.queue.prefix}:rl:`;
  const throttle = new LoginThrottle(rateLimits, { keyPrefix: rateLimitPrefix, ...config.auth.loginThrottle });
  // Jobs Redis refused while it was down are asked for again the moment the connection is back.
  const handover = new JobHandover(logger);
  redis.on('ready', () => void handover.redeliver());
  const audit = new AuditService(stores.auditLog, logger);
  const sessions = new SessionsService({
    tokens,
    refreshTokens: stores.refreshTokens,
    refreshTtlSeconds: durationToSeconds(config.auth.refreshTokenTtl),
    admins: stores.platformAdmins,
    organizations: stores.organizations,
    tenants: tenantPools,
    audit,
    throttle,
  });
  const requestRates = new RequestRates({
    counter: rateLimits,
    keyPrefix: rateLimitPrefix,
    limits: config.limits,
    clock,
    // Each organization's own limits, as the replica's cached reader of organization_limits has them.
    overridesOf: (orgId) => limits.overridesOf(orgId),
  });
  const organizations = new OrganizationsService({
    databasePrefix: config.tenancy.databasePrefix,
    deleteGraceMs: config.archives.deleteGraceMs,
    bcryptRounds,
    store: stores.organizations,
    placement,
    jobs,
    handover,
    cache: organizationRows,
    idempotent: new IdempotentRequests(stores.idempotencyKeys, config.secrets.current.key),
    archives: { store: stores.organizationDumps, dir: config.archives.dir },
  });
  const services: ApiServices = {
    auth: new AuthService(stores.platformAdmins, sessions, audit, throttle, bcryptRounds, adminAuthStates),
    orgAuth: new OrgAuthService(stores.organizations, tenantPools, sessions, audit, throttle, bcryptRounds),
    sessions,
    audit,
    organizations,
    moves: new MovesService({ store: stores.organizations, servers: stores.databaseServers, placement, jobs, handover }),
    drains: new DrainsService({
      servers: stores.databaseServers,
      runs: stores.trackedRuns,
      queue: queues.migrations,
      logger,
      onServerChange: () => servers.invalidate(),
    }),
    exports: new OrganizationExportsService({
      dumps: stores.organizationDumps,
      queue: queues.tenantWork,
      handover,
      dir: config.exports.dir,
      diskLimitBytes: config.limits.exportDiskLimitBytes,
    }),
    backups: new OrganizationBackupsService({
      dumps: stores.organizationDumps,
      queue: queues.tenantWork,
      handover,
      organizations,
      store: stores.organizations,
      jobs,
    }),
    users: new UsersService(tenantPools, PasswordHashing.withRounds(bcryptRounds), audit, limits),
    webhooks: new WebhooksService({ store: stores.webhooks, allowPrivate: config.webhooks.allowPrivate, audit }),
    signups: new SignupThrottle(rateLimits, { keyPrefix: rateLimitPrefix, ...config.auth.signupThrottle }),
    requestRates,
    admission: new FairAdmission(config.limits.admission),
    migrationRuns: new MigrationRunsService({ runs: stores.trackedRuns, queue: queues.migrations, logger }),
    databaseLimitRuns: new DatabaseLimitRunsService({ runs: stores.trackedRuns, queue: queues.migrations, logger }),
    orphans: new OrphansService({ databasePrefix: config.tenancy.databasePrefix, servers, organizations: stores.organizations }),
    databaseServers: new DatabaseServersService({
      servers: stores.databaseServers,
      organizations: stores.organizations,
      probe: probeServer,
      lockDown: (server) => lockDownServer(server, config.tenancy.databasePrefix, logger),
      onChange: () => servers.invalidate(),
    }),
    events,
    readiness: new ReadinessService(controlDb, redis),
    limits: new LimitsService({
      store: stores.organizationLimits,
      defaults,
      windowMs: config.limits.windowMs,
      tenants: tenantPools,
      audit,
      // The worker sets the changed limits on the organization's role (job apply-database-limits).
      applyDatabaseLimits: async (orgId) => {
        await enqueueDatabaseLimits(queues.maintenance, { orgId, requestId: currentContext()?.requestId ?? randomUUID() });
      },
      requestUsage: async (orgId) => (await requestRates.requestUsage({ scope: 'organization', id: orgId }))?.counts ?? {},
    }),
  };

  const abort = new AbortController();
  // Ready means ready to serve every route: migrated, and the bootstrap admin can log in.
  const ready = (async () => {
    const prepare = async () => {
      await ensureBootstrapAdmin(stores.platformAdmins, config.auth, logger);
      await prepareFleet(config.tenancy, stores.databaseServers, stores.organizations, logger);
    };
    if (await connectControlPlane(controlDb, config.database, logger, abort.signal, prepare)) services.readiness.markControlPlaneReady();
  })();

  const stop = () =>
    shutdownInOrder(
      [
        { name: 'stop connecting', run: async () => abort.abort() },
        { name: 'close queues', run: () => Promise.all(Object.values(queues).map((queue) => queue.close())) },
        { name: 'close the status event subscription', run: () => services.events.close() },
        { name: 'close tenant pools', run: () => tenantPools.close() },
        { name: 'close control database', run: async () => controlDb.isInitialized && controlDb.destroy() },
        { name: 'close redis', run: () => closeRedis(redis) },
      ],
      config.runtime.shutdownTimeoutMs,
      logger,
    );

  const app = createApp({ config, logger, services, queues: Object.values(queues), tenantPools, clock });
  return { app, services, stores, queues, tenantPools, limits, ready, stop };
}

async function ensureBootstrapAdmin(admins: PlatformAdminStore, auth: AuthConfig, logger: Logger): Promise<void> {
  if (!auth.bootstrapAdmin) return;
  const { email, password } = auth.bootstrapAdmin;
  const outcome = await admins.ensure(email, password, auth.bcryptRounds);
  logger.info('bootstrap platform admin', { email: email.toLowerCase(), outcome });
}
