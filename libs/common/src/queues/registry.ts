/**
 * The one typed registry of queues, job names, job data and job ids (docs/architecture.md). Only ids
 * travel on a queue: no names, hashes or credentials.
 */
export const QUEUES = {
  provisioning: 'provisioning',
  maintenance: 'maintenance',
  migrations: 'migrations',
  webhooks: 'webhooks',
  /** Work an organization asks for (exports, backups, moves), apart from provisioning so it never delays a new organization. */
  tenantWork: 'tenant-work',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  provision: 'provision',
  purge: 'purge',
  sweep: 'sweep',
  migrateAll: 'migrate-all',
  migrateTenants: 'migrate-tenants',
  move: 'move',
  drainServer: 'drain-server',
  export: 'export',
  backup: 'backup',
  restore: 'restore',
  deliverWebhooks: 'deliver-webhooks',
  sweepWebhooks: 'sweep-webhooks',
  applyDatabaseLimits: 'apply-database-limits',
  applyFleetDatabaseLimits: 'apply-fleet-database-limits',
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** The queue each job travels on; a worker refuses, on a queue, every job name not listed for it. */
export const JOB_QUEUES = {
  [JOBS.provision]: QUEUES.provisioning,
  [JOBS.purge]: QUEUES.provisioning,
  [JOBS.sweep]: QUEUES.maintenance,
  [JOBS.migrateAll]: QUEUES.migrations,
  [JOBS.migrateTenants]: QUEUES.migrations,
  [JOBS.move]: QUEUES.tenantWork,
  [JOBS.drainServer]: QUEUES.migrations,
  [JOBS.export]: QUEUES.tenantWork,
  [JOBS.backup]: QUEUES.tenantWork,
  [JOBS.restore]: QUEUES.tenantWork,
  [JOBS.deliverWebhooks]: QUEUES.webhooks,
  [JOBS.sweepWebhooks]: QUEUES.webhooks,
  [JOBS.applyDatabaseLimits]: QUEUES.maintenance,
  [JOBS.applyFleetDatabaseLimits]: QUEUES.migrations,
} as const satisfies Record<JobName, QueueName>;

/**
 * Jobs that travelled on another queue in earlier versions: a job of these names still waiting
 * there after an upgrade (or added by an API replica not yet upgraded) is handed on to its
 * queue of today under its own id, never dropped and never run in the old queue's slots.
 */
export const MOVED_JOBS: Partial<Record<QueueName, JobName[]>> = {
  [QUEUES.provisioning]: [JOBS.move, JOBS.export],
};

/** The names of the jobs that travel on `queue`. */
export function jobsOn(queue: QueueName): JobName[] {
  return (Object.keys(JOB_QUEUES) as JobName[]).filter((name) => JOB_QUEUES[name] === queue);
}

export interface ProvisionJobData {
  orgId: string;
  requestId: string;
}

/** Same shape as provisioning: the organization and the request that asked for its purge (or the purges-due sweep's, when its grace period ended). */
export type PurgeJobData = ProvisionJobData;

/**
 * A move of one organization's database to the server its row names as `moving_to_server_id`.
 * `fromServerId` is the source: after the switch the row no longer names it, and a re-run still
 * has to drop the source copy.
 */
export interface MoveJobData {
  orgId: string;
  requestId: string;
  fromServerId: string;
}

/** A `pg_dump -Fc` of one organization's database into EXPORT_DIR, recorded as the export `exportId`. */
export interface ExportJobData {
  exportId: string;
  orgId: string;
  requestId: string;
}

/** A `pg_dump -Fc` of one organization's database into BACKUP_DIR, recorded as the backup `backupId`. */
export interface BackupJobData {
  backupId: string;
  orgId: string;
  requestId: string;
}

/** An in-place restore of one organization: the backup replacing its data is on its row (`restoring_backup_id`). */
export type RestoreJobData = ProvisionJobData;

/** Jobs of the provisioning queue: each makes or removes one organization's database. */
export type ProvisioningJobData = ProvisionJobData | PurgeJobData;

/** Jobs of the tenant-work queue: each acts on one organization's database for that organization or its operators. */
export type TenantWorkJobData = MoveJobData | ExportJobData | BackupJobData | RestoreJobData;

/** Every job that acts on one organization's database. */
export type OrganizationJobData = ProvisioningJobData | TenantWorkJobData;

/**
 * The periodic sweeps of the maintenance queue, each scheduled on its own (the worker's
 * sweeps/ declares what each does and how often).
 */
export const SWEEPS = {
  purgesDue: 'purges-due',
  stuckOrganizations: 'stuck-organizations',
  lostExports: 'lost-exports',
  orphans: 'orphans',
  expiredExports: 'expired-exports',
  expiredRefreshTokens: 'expired-refresh-tokens',
  auditRetention: 'audit-retention',
  quotas: 'quotas',
  backups: 'backups',
  expiredBackups: 'expired-backups',
  restoreDrills: 'restore-drills',
  spareDatabases: 'spare-databases',
} as const;
export type SweepName = (typeof SWEEPS)[keyof typeof SWEEPS];

/** One pass of one sweep, which the job's data names. */
export interface SweepJobData {
  sweep: SweepName;
}

/** The parent of a fleet migration run; `phase` survives the parent's re-runs (BullMQ step-job pattern). */
export interface MigrateAllJobData {
  runId: string;
  requestId: string;
  phase?: 'plan' | 'wait' | 'finish';
}

/** A child of a fleet migration run: a batch of organizations behind the latest tenant migration, migrated one after another. */
export interface MigrateTenantsJobData {
  runId: string;
  orgIds: string[];
  requestId: string;
}

/** A drain of one database server: every active organization on it is moved elsewhere, one at a time. */
export interface DrainServerJobData {
  drainId: string;
  requestId: string;
}

/**
 * The deliveries of one lane, one endpoint and one organization, in event order: one job per
 * lane, so one delivery at a time per lane. It waits (delayed) until its next retry is due.
 */
export interface DeliverWebhooksJobData {
  endpointId: string;
  orgId: string;
}

/** A repeatable job without data: hands every lane with pending deliveries to the queue. */
export type SweepWebhooksJobData = Record<string, never>;

/** Sets one organization's database limits on its role again (its overrides changed). */
export interface ApplyDatabaseLimitsJobData {
  orgId: string;
  requestId: string;
}

/** A tracked run setting every active organization's database limits on its role. */
export interface ApplyFleetDatabaseLimitsJobData {
  runId: string;
  requestId: string;
}

/** The data of each job, by name: the worker's handler map is typed by it, so every job name needs its entry. */
export interface JobDataByName {
  [JOBS.provision]: ProvisionJobData;
  [JOBS.purge]: PurgeJobData;
  [JOBS.sweep]: SweepJobData;
  [JOBS.migrateAll]: MigrateAllJobData;
  [JOBS.migrateTenants]: MigrateTenantsJobData;
  [JOBS.move]: MoveJobData;
  [JOBS.drainServer]: DrainServerJobData;
  [JOBS.export]: ExportJobData;
  [JOBS.backup]: BackupJobData;
  [JOBS.restore]: RestoreJobData;
  [JOBS.deliverWebhooks]: DeliverWebhooksJobData;
  [JOBS.sweepWebhooks]: SweepWebhooksJobData;
  [JOBS.applyDatabaseLimits]: ApplyDatabaseLimitsJobData;
  [JOBS.applyFleetDatabaseLimits]: ApplyFleetDatabaseLimitsJobData;
}

/**
 * Deterministic ids make enqueueing idempotent: adding a job whose id exists is a no-op.
 * BullMQ rejects ':' in custom ids, hence `provision-<orgId>` rather than `provision:<orgId>`.
 */
export const jobIds = {
  provision: (orgId: string) => `provision-${orgId}`,
  purge: (orgId: string) => `purge-${orgId}`,
  migrateAll: (runId: string) => `migrate-all-${runId}`,
  /** Named by the batch's first organization: a re-planned run (after a crash) never reuses an id for other organizations. */
  migrateTenants: (runId: string, firstOrgId: string) => `migrate-tenants-${runId}-${firstOrgId}`,
  move: (orgId: string) => `move-${orgId}`,
  drainServer: (drainId: string) => `drain-${drainId}`,
  export: (exportId: string) => `export-${exportId}`,
  backup: (backupId: string) => `backup-${backupId}`,
  restore: (orgId: string) => `restore-${orgId}`,
  deliverWebhooks: (endpointId: string, orgId: string) => `webhooks-${endpointId}-${orgId}`,
  applyDatabaseLimits: (orgId: string) => `database-limits-${orgId}`,
  applyFleetDatabaseLimits: (runId: string) => `database-limits-run-${runId}`,
};

/** The id of each sweep's job scheduler: one per sweep, so re-registering one never adds a second. */
export const sweepSchedulerId = (sweep: SweepName) => `sweep-${sweep}`;

/** The id of the repeatable webhook sweep's scheduler. */
export const WEBHOOK_SWEEP_SCHEDULER_ID = 'sweep-webhooks-every-interval';
