/**
 * The one typed registry of queues, job names, job data and job ids (DESIGN §7). Only ids
 * travel on a queue: no names, hashes or credentials.
 */
export const QUEUES = {
  provisioning: 'provisioning',
  maintenance: 'maintenance',
  migrations: 'migrations',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  provision: 'provision',
  deprovision: 'deprovision',
  reconcile: 'reconcile',
  migrateAll: 'migrate-all',
  migrateTenant: 'migrate-tenant',
  move: 'move',
  drainServer: 'drain-server',
  export: 'export',
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

/** The queue each job travels on; a worker refuses, on a queue, every job name not listed for it. */
export const JOB_QUEUES = {
  [JOBS.provision]: QUEUES.provisioning,
  [JOBS.deprovision]: QUEUES.provisioning,
  [JOBS.reconcile]: QUEUES.maintenance,
  [JOBS.migrateAll]: QUEUES.migrations,
  [JOBS.migrateTenant]: QUEUES.migrations,
  [JOBS.move]: QUEUES.provisioning,
  [JOBS.drainServer]: QUEUES.migrations,
  [JOBS.export]: QUEUES.provisioning,
} as const satisfies Record<JobName, QueueName>;

/** The names of the jobs that travel on `queue`. */
export function jobsOn(queue: QueueName): JobName[] {
  return (Object.keys(JOB_QUEUES) as JobName[]).filter((name) => JOB_QUEUES[name] === queue);
}

export interface ProvisionJobData {
  orgId: string;
  requestId: string;
}

/** Same shape as provisioning: the organization and the request that asked for its deletion. */
export type DeprovisionJobData = ProvisionJobData;

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

/** Jobs of the provisioning queue: each acts on one organization's database. */
export type OrganizationJobData = ProvisionJobData | DeprovisionJobData | MoveJobData | ExportJobData;

export type ReconcileJobData = Record<string, never>;

/** The parent of a fleet migration run; `phase` survives the parent's re-runs (BullMQ step-job pattern). */
export interface MigrateAllJobData {
  runId: string;
  requestId: string;
  phase?: 'plan' | 'wait' | 'finish';
}

/** One child per organization behind the latest tenant migration. */
export interface MigrateTenantJobData {
  runId: string;
  orgId: string;
  requestId: string;
}

/** A drain of one database server: every active organization on it is moved elsewhere, one at a time. */
export interface DrainServerJobData {
  drainId: string;
  requestId: string;
}

/** The data of each job, by name: the worker's handler map is typed by it, so every job name needs its entry. */
export interface JobDataByName {
  [JOBS.provision]: ProvisionJobData;
  [JOBS.deprovision]: DeprovisionJobData;
  [JOBS.reconcile]: ReconcileJobData;
  [JOBS.migrateAll]: MigrateAllJobData;
  [JOBS.migrateTenant]: MigrateTenantJobData;
  [JOBS.move]: MoveJobData;
  [JOBS.drainServer]: DrainServerJobData;
  [JOBS.export]: ExportJobData;
}

/**
 * Deterministic ids make enqueueing idempotent: adding a job whose id exists is a no-op.
 * BullMQ rejects ':' in custom ids, hence `provision-<orgId>` rather than DESIGN's `provision:<orgId>`.
 */
export const jobIds = {
  provision: (orgId: string) => `provision-${orgId}`,
  deprovision: (orgId: string) => `deprovision-${orgId}`,
  migrateAll: (runId: string) => `migrate-all-${runId}`,
  migrateTenant: (runId: string, orgId: string) => `migrate-tenant-${runId}-${orgId}`,
  move: (orgId: string) => `move-${orgId}`,
  drainServer: (drainId: string) => `drain-${drainId}`,
  export: (exportId: string) => `export-${exportId}`,
};

/** The id of the repeatable reconcile job scheduler. */
export const RECONCILE_SCHEDULER_ID = 'reconcile-every-interval';
