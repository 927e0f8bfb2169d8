import { AuditLogStore } from '@orgms/common/audit/audit-log-store';
import { type Clock, systemClock } from '@orgms/common/clock';
import type { Config } from '@orgms/common/config';
import { OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { createControlDataSource } from '@orgms/common/database/control-data-source';
import { connectControlPlane } from '@orgms/common/database/control-plane-startup';
import { redisEventPublisher } from '@orgms/common/events/organization-events';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { prepareFleet } from '@orgms/common/fleet/fleet-startup';
import { ServerDirectory } from '@orgms/common/fleet/server-directory';
import { ServerReachability } from '@orgms/common/fleet/server-probe';
import { TenantRoleStore } from '@orgms/common/fleet/tenant-role-store';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { defaultLimits } from '@orgms/common/limits/organization-limits';
import { OrganizationLimitsStore } from '@orgms/common/limits/organization-limits-store';
import type { Logger } from '@orgms/common/logger';
import { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { shutdownInOrder } from '@orgms/common/process/shutdown';
import { createMigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { createProvisioningQueue, organizationJobs } from '@orgms/common/queues/provisioning-queue';
import { openQueue } from '@orgms/common/queues/queue-handles';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { type DeliverWebhooksJobData, JOBS, QUEUES, WEBHOOK_SWEEP_SCHEDULER_ID } from '@orgms/common/queues/registry';
import { createTenantWorkQueue } from '@orgms/common/queues/tenant-work-queue';
import { createWebhooksQueue, enqueueWebhookLane, wakeWebhookLane } from '@orgms/common/queues/webhooks-queue';
import { SecretBox } from '@orgms/common/secret-box';
import { RefreshTokenStore } from '@orgms/common/sign-in/refresh-token-store';
import { SpareDatabaseStore } from '@orgms/common/tenancy/spare-database-store';
import { queueTelemetry } from '@orgms/common/tracing/tracing';
import { WebhookStore } from '@orgms/common/webhooks/webhook-store';
import { type Job, type Queue, Worker } from 'bullmq';
import { ArchiveRestorer } from './data-safety/archive-restore';
import { type BackupRestoreDeps, BackupRestoresService } from './data-safety/backup-restores.service';
import { type DumpDeps, OrganizationDumpsService } from './data-safety/organization-dumps.service';
import { DrainService } from './fleet/drain.service';
import { type MoveDeps, MovesService } from './fleet/moves.service';
import { OrganizationServers } from './fleet/organization-servers';
import { PgBouncerDatabases } from './fleet/pgbouncer-databases';
import { MigrationRunsService } from './fleet-migrations/migration-runs.service';
import { DatabaseLimitsService, databaseLimitsOf } from './limits/database-limits.service';
import { countPipelineFailuresOf, jobsProcessed, stalledJobs, startMetricsServer } from './metrics';
import { type ProvisioningDeps, ProvisioningService } from './organizations/provisioning.service';
import { type PurgeDeps, PurgeService } from './organizations/purge.service';
import { createJobHandlers } from './processors/job-handlers';
import { queueProcessor } from './processors/job-processor';
import { SweepRegistry } from './sweeps/sweep-registry';
import { declareSweeps, type WorkerSweeps } from './sweeps/worker-sweeps';
import { SpareDatabases } from './tenancy/spare-databases';
import { refreshTemplate } from './tenancy/template-database';
import { TenantRoles } from './tenancy/tenant-roles';
import { listenForDeliveries } from './webhooks/delivery-notifications';
import { WebhookDeliveryService } from './webhooks/webhook-delivery.service';
import { sendWebhook } from './webhooks/webhook-sender';

export interface WorkerRuntime {
  /** Resolves once the control database is reachable and the workers consume jobs. */
  ready: Promise<void>;
  /** Resolves once the template database is current (or its refresh failed, which is logged) and the servers' spare databases are refilled. */
  templateReady: Promise<void>;
  provisioningWorker: Worker;
  /** The services behind the jobs, for tests that run a job's work twice. */
  provisioning: ProvisioningService;
  /** Fleet migrations' work, for tests that run a batch twice. */
  migrations: MigrationRunsService;
  /** The periodic sweeps, for tests that run one pass of one of them. */
  sweeps: WorkerSweeps;
  /** The fleet as this worker sees it (tests build services on it). */
  servers: OrganizationServers;
  /** Organizations' own database roles (tests build services on it and check roles with it). */
  roles: TenantRoles;
  /** Every server's spare databases (tests wait for refills with it). */
  spares: SpareDatabases;
  pgbouncer?: PgBouncerDatabases;
  stop: () => Promise<boolean>;
}

export interface WorkerOptions {
  /** Where expiries, grace periods and retention take their time from (tests move it). */
  clock?: Clock;
  beforeStep?: ProvisioningDeps['beforeStep'];
  /** Called before each step of a move (tests slow or interrupt moves with it). */
  beforeMoveStep?: MoveDeps['beforeStep'];
  /** Called before the step of each export (tests hold exports running with it). */
  beforeExportStep?: DumpDeps['beforeStep'];
  /** Called before each step of an in-place restore (tests hold or interrupt restores with it). */
  beforeRestoreStep?: BackupRestoreDeps['beforeStep'];
  /** Called before each purge step (tests interrupt purges with it). */
  beforePurgeStep?: PurgeDeps['beforeStep'];
}

/**
 * Builds every part of the worker process. It starts even when PostgreSQL or Redis is down:
 * workers begin consuming once the control database is migrated and reachable.
 */
export function startWorkerRuntime(config: Config, logger: Logger, options: WorkerOptions = {}): WorkerRuntime {
  const { tenancy, worker: settings } = config;
  const clock = options.clock ?? systemClock;
  const connection = createRedis(config.queue, 'worker');
  const controlDb = createControlDataSource(config.database, 5);
  const events = redisEventPublisher(connection, config.queue);
  const store = new OrganizationStore(controlDb, events, clock);
  const runs = new TrackedRunStore(controlDb);
  const secrets = new SecretBox(config.secrets.current, config.secrets.previous);
  const serverStore = new DatabaseServerStore(controlDb, secrets);
  const roleStore = new TenantRoleStore(controlDb, secrets);
  // Each organization's own limits (the defaults with its overrides) are set on its role.
  const limitOverrides = new OrganizationLimitsStore(controlDb);
  const roles = new TenantRoles({
    store: roleStore,
    databasePrefix: tenancy.databasePrefix,
    limitsOf: databaseLimitsOf(config.limits, (orgId) => limitOverrides.overridesOf(orgId)),
    logger,
  });
  const servers = new OrganizationServers(new ServerDirectory(serverStore));
  const { pgbouncer: pgbouncerSettings } = tenancy.fleet;
  const pgbouncer = pgbouncerSettings && new PgBouncerDatabases({ settings: pgbouncerSettings, controlDb, store, servers: servers.directory, logger });
  const provisioningQueue = createProvisioningQueue(config.queue, connection);
  const tenantWorkQueue = createTenantWorkQueue(config.queue, connection);
  const migrationsQueue = createMigrationsQueue(config.queue, connection);
  const maintenanceQueue = openQueue(QUEUES.maintenance, config.queue, connection);
  const webhooksQueue = createWebhooksQueue(config.queue, connection);
  const webhookStore = new WebhookStore(controlDb, new SecretBox(config.secrets.current, config.secrets.previous));
  const enqueueLane = (lane: DeliverWebhooksJobData) => enqueueWebhookLane(webhooksQueue, lane);
  const webhooks = new WebhookDeliveryService({
    store: webhookStore,
    settings: config.webhooks,
    send: sendWebhook,
    enqueueLane,
    wakeLane: (lane) => wakeWebhookLane(webhooksQueue, lane),
    logger,
  });

  const spares = new SpareDatabases({
    settings: tenancy,
    spares: new SpareDatabaseStore(controlDb),
    organizations: store,
    directory: servers.directory,
    roles,
    logger,
  });
  const dumps = new OrganizationDumpStore(controlDb, clock);
  const restorer = new ArchiveRestorer(dumps, { archive: config.archives.dir, backup: config.backups.dir }, logger);
  const provisioning = new ProvisioningService({
    tenancy,
    store,
    servers,
    pgbouncer,
    roles,
    spares,
    archives: restorer,
    logger,
    beforeStep: options.beforeStep,
  });
  const purges = new PurgeService({
    servers,
    pgbouncer,
    store,
    archives: dumps,
    roles,
    events,
    logger,
    dir: config.archives.dir,
    beforeStep: options.beforePurgeStep,
  });
  const migrations = new MigrationRunsService({
    tenancy,
    servers,
    store,
    runs,
    roles,
    spares,
    events,
    logger,
    batching: { batchSize: settings.migrationBatchSize, concurrency: settings.migrationConcurrency },
  });
  const moves = new MovesService({
    store,
    servers,
    pgbouncer,
    roles,
    events,
    logger,
    sessionGraceMs: tenancy.fleet.moveSessionGraceMs,
    beforeStep: options.beforeMoveStep,
  });
  const drains = new DrainService({
    store,
    runs,
    servers,
    reachability: new ServerReachability(),
    moves,
    spares,
    logger,
  });
  const dumpsService = new OrganizationDumpsService({
    store,
    dumps,
    servers,
    logger,
    kinds: {
      export: { dir: config.exports.dir, ttlMs: () => config.exports.ttlMs },
      // Scheduled backups expire by retention (expired-backups sweep), the others after BACKUP_MANUAL_TTL.
      backup: { dir: config.backups.dir, ttlMs: (backup) => (backup.backupKind === 'scheduled' ? null : config.backups.manualTtlMs) },
    },
    beforeStep: options.beforeExportStep,
  });
  const restores = new BackupRestoresService({
    store,
    dumps,
    backups: dumpsService,
    restorer,
    servers,
    pgbouncer,
    roles,
    events,
    logger,
    sessionGraceMs: tenancy.fleet.moveSessionGraceMs,
    beforeStep: options.beforeRestoreStep,
  });
  const databaseLimits = new DatabaseLimitsService({ store, servers, roles, runs, logger });
  const jobs = organizationJobs({ provisioning: provisioningQueue, tenantWork: tenantWorkQueue });
  const sweeps = declareSweeps({
    settings: settings.reconcile,
    databasePrefix: tenancy.databasePrefix,
    store,
    servers,
    jobs,
    dumps: dumpsService,
    refreshTokens: new RefreshTokenStore(controlDb, clock),
    audit: new AuditLogStore(controlDb, clock),
    auditRetentionDays: config.auditRetentionDays,
    backups: { dumps, service: dumpsService, clock, settings: config.backups },
    drills: { dumps, store, servers, dir: config.backups.dir },
    spares,
    quotas: {
      intervalMs: config.limits.quotaSweepIntervalMs,
      defaults: defaultLimits(config.limits),
      limits: new OrganizationLimitsStore(controlDb, { clock, events }),
      clock,
    },
    logger,
  });
  const sweepRegistry = new SweepRegistry(sweeps, logger);

  // A job whose worker died (lock not renewed) goes back to waiting after at most about
  // lockDuration + stalledInterval.
  const workerOptions = {
    connection,
    prefix: config.queue.prefix,
    autorun: false,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    // With tracing on, each job's processing is a span in the trace of the code that added it.
    telemetry: queueTelemetry(),
  } as const;
  const handlers = createJobHandlers({
    provisioning,
    purges,
    migrations,
    sweeps: sweepRegistry,
    moves,
    drains,
    dumps: dumpsService,
    restores,
    webhooks,
    databaseLimits,
    migrationsQueue,
  });
  // WORKER_CONCURRENCY slots serve only provisioning and purges; what organizations ask for runs
  // in TENANT_WORK_CONCURRENCY slots of its own. A job of an earlier version still on the
  // provisioning queue is handed on to its queue of today (registry MOVED_JOBS).
  const forward = (job: Job) => (tenantWorkQueue as Queue).add(job.name, job.data, { jobId: job.id });
  const provisioningWorker = new Worker(QUEUES.provisioning, queueProcessor(QUEUES.provisioning, handlers, forward), {
    ...workerOptions,
    concurrency: settings.concurrency,
  });
  const tenantWorkWorker = new Worker(QUEUES.tenantWork, queueProcessor(QUEUES.tenantWork, handlers), {
    ...workerOptions,
    concurrency: config.limits.tenantWorkConcurrency,
  });
  const migrationsWorker = new Worker(QUEUES.migrations, queueProcessor(QUEUES.migrations, handlers), {
    ...workerOptions,
    concurrency: settings.migrationConcurrency,
  });
  const maintenanceWorker = new Worker(QUEUES.maintenance, queueProcessor(QUEUES.maintenance, handlers), { ...workerOptions, concurrency: 1 });
  const webhooksWorker = new Worker(QUEUES.webhooks, queueProcessor(QUEUES.webhooks, handlers), {
    ...workerOptions,
    concurrency: config.webhooks.concurrency,
  });
  // A delivery added while its lane's job was finishing found that job still there (so adding the
  // lane again was a no-op): once the job is gone, the lane is looked at again.
  webhooksWorker.on('completed', (job) => {
    if (job.name !== JOBS.deliverWebhooks) return;
    const lane = job.data as DeliverWebhooksJobData;
    webhookStore
      .hasPending(lane.endpointId, lane.orgId)
      .then((pending) => pending && enqueueLane(lane))
      .catch((error) => logger.warn('could not look at a webhook lane again; the sweep will', { error: (error as Error).message }));
  });
  const workers = [provisioningWorker, tenantWorkWorker, migrationsWorker, maintenanceWorker, webhooksWorker];
  countPipelineFailuresOf([provisioning, purges, moves, dumpsService, restores, restorer].map((service) => service.pipeline));
  for (const worker of workers) {
    stalledJobs.inc({ queue: worker.name }, 0);
    worker.on('stalled', (jobId) => {
      stalledJobs.inc({ queue: worker.name });
      logger.warn('job stalled; it runs again', { queue: worker.name, jobId });
    });
    worker.on('error', (error) => logger.warn('worker connection problem', { queue: worker.name, error: error.message }));
    worker.on('completed', () => jobsProcessed.inc({ queue: worker.name, outcome: 'completed' }));
    worker.on('failed', (job, error) => {
      jobsProcessed.inc({ queue: worker.name, outcome: 'failed' });
      logger.warn('job attempt failed', { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, error: error.message });
    });
  }

  const scheduleSweeps = () =>
    Promise.all([
      sweepRegistry.schedule(maintenanceQueue),
      webhooksQueue.upsertJobScheduler(WEBHOOK_SWEEP_SCHEDULER_ID, { every: config.webhooks.sweepIntervalMs }, { name: JOBS.sweepWebhooks, data: {} }),
    ]);
  let stopListening: () => Promise<void> = async () => undefined;
  let scheduleWatch: NodeJS.Timeout | undefined;

  let stopMetricsServer: () => Promise<void> = async () => undefined;
  const abort = new AbortController();
  const ready = (async () => {
    const prepare = async () => {
      await prepareFleet(tenancy, serverStore, store, logger);
      // Organizations' role passwords sealed with an older SECRETS_KEY, sealed again with the current one.
      const resealed = await roleStore.resealStale();
      if (resealed > 0) logger.info('organization role passwords sealed with the current key', { resealed });
    };
    if (!(await connectControlPlane(controlDb, config.database, logger, abort.signal, prepare))) return;
    stopMetricsServer = await startMetricsServer(settings.metrics, logger);
    await scheduleSweeps();
    // Redis keeps nothing across a restart here, so the schedules are registered again on every
    // reconnect (upsert is idempotent); otherwise orgs created during an outage would wait forever.
    connection.on('ready', () => {
      scheduleSweeps().catch((error) => logger.warn('could not schedule the sweeps', { error }));
    });
    // A Redis that loses its data without a reconnect (FLUSHALL, a failover to an empty replica)
    // loses the schedules too, and nothing would ever bring back the work it lost: look for them
    // every interval and register them again when one is gone.
    scheduleWatch = setInterval(() => {
      Promise.all([sweepRegistry.allScheduled(maintenanceQueue), webhooksQueue.getJobScheduler(WEBHOOK_SWEEP_SCHEDULER_ID)])
        .then(async (schedules) => {
          if (schedules.every(Boolean)) return;
          await scheduleSweeps();
          logger.warn('a sweep schedule was gone from Redis; scheduled again');
        })
        .catch((error) => logger.warn('could not look at the sweep schedules', { error: (error as Error).message }));
    }, settings.reconcile.intervalMs);
    scheduleWatch.unref();
    stopListening = listenForDeliveries({ databaseUrl: config.database.url, onLane: enqueueLane, logger });
    for (const worker of workers) void worker.run();
    logger.info('worker started', {
      concurrency: settings.concurrency,
      tenantWorkConcurrency: config.limits.tenantWorkConcurrency,
      queuePrefix: config.queue.prefix,
    });
  })();
  // In the background, on every server: until its template is current, new databases there take the slow path.
  const templateReady = ready.then(async () => {
    if (!tenancy.templateEnabled || abort.signal.aborted) return;
    for (const server of await servers.directory.inService().catch(() => [])) {
      try {
        logger.info('template database', { server: server.name, outcome: await refreshTemplate(server.adminUrl, tenancy.databasePrefix, logger) });
      } catch (error) {
        logger.error('could not prepare the template database; creating empty databases instead', { server: server.name, error });
      }
    }
    // Spares of an older template retired, and the server's spares made, once each template is current.
    if (!abort.signal.aborted) await spares.refillAll().catch((error) => logger.warn('could not refill spare databases', { error: (error as Error).message }));
  });

  const stop = () =>
    shutdownInOrder(
      [
        {
          name: 'stop connecting',
          run: async () => {
            abort.abort();
            clearInterval(scheduleWatch);
          },
        },
        { name: 'finish template refresh', run: () => templateReady },
        // close() lets running jobs finish; jobs that outlive the time limit are picked up
        // again by another worker through BullMQ's stalled-job check.
        { name: 'finish running jobs', run: () => Promise.all(workers.map((w) => w.close())) },
        { name: 'finish refilling spare databases', run: () => spares.idle() },
        { name: 'stop hearing webhook deliveries', run: () => stopListening() },
        {
          name: 'close queues',
          run: () =>
            Promise.all([provisioningQueue.close(), tenantWorkQueue.close(), migrationsQueue.close(), maintenanceQueue.close(), webhooksQueue.close()]),
        },
        { name: 'close control database', run: async () => controlDb.isInitialized && controlDb.destroy() },
        { name: 'close redis', run: () => closeRedis(connection) },
        { name: 'close metrics server', run: () => stopMetricsServer() },
      ],
      config.runtime.shutdownTimeoutMs,
      logger,
    );

  return { ready, templateReady, provisioningWorker, provisioning, migrations, sweeps, servers, roles, spares, pgbouncer, stop };
}
