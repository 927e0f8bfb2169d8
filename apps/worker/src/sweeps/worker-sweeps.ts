import type { AuditLogStore } from '@orgms/common/audit/audit-log-store';
import type { WorkerConfig } from '@orgms/common/config';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { SWEEPS } from '@orgms/common/queues/registry';
import type { RefreshTokenStore } from '@orgms/common/sign-in/refresh-token-store';
import { type BackupSweepDeps, expireBackups, scheduleBackups } from '../data-safety/backup-sweeps';
import { expireExports, resumeLostExports } from '../data-safety/export-sweeps';
import type { OrganizationDumpsService } from '../data-safety/organization-dumps.service';
import { drillRestores, type RestoreDrillDeps } from '../data-safety/restore-drills';
import type { OrganizationServers } from '../fleet/organization-servers';
import { detectOrphans } from '../fleet/orphans-sweep';
import { type QuotaSweepDeps, sweepQuotas } from '../limits/quota-sweep';
import { resumeStuckOrganizations, startDuePurges } from '../organizations/organization-sweeps';
import type { SpareDatabases } from '../tenancy/spare-databases';
import { deleteExpiredRefreshTokens, expireAuditEntries } from './retention-sweeps';
import type { SweepDeclarations } from './sweep-registry';

export interface WorkerSweepDeps {
  /** RECONCILE_INTERVAL_MS, RECONCILE_STUCK_AFTER_MS, RECONCILE_ORPHANS_INTERVAL_MS. */
  settings: WorkerConfig['reconcile'];
  databasePrefix: string;
  store: OrganizationStore;
  servers: OrganizationServers;
  jobs: OrganizationJobs;
  dumps: Pick<OrganizationDumpsService, 'expireDue' | 'unfinished'>;
  refreshTokens: Pick<RefreshTokenStore, 'deleteExpired'>;
  audit: Pick<AuditLogStore, 'deleteOlderThan'>;
  /** AUDIT_RETENTION_DAYS; 0 keeps every entry. */
  auditRetentionDays: number;
  /** QUOTA_SWEEP_INTERVAL_MS, and what the quota sweep reads and marks. */
  quotas: Omit<QuotaSweepDeps, 'servers' | 'store' | 'logger'> & { intervalMs: number };
  /** What the backup sweeps read and ask for, and BACKUP_INTERVAL and the retention settings. */
  backups: Omit<BackupSweepDeps, 'jobs' | 'logger' | 'stuckAfterMs'>;
  /** What the restore drills read, restore into and report to. */
  drills: Omit<RestoreDrillDeps, 'logger'>;
  /** Every server's spare databases, retired and refilled (a backstop for the refill after each claim). */
  spares: Pick<SpareDatabases, 'refillAll'>;
  logger: Logger;
}

/**
 * Every periodic sweep of the maintenance queue: how often it runs and what one pass does.
 * Each runs on RECONCILE_INTERVAL_MS, as the single reconcile pass they replace did, except the
 * orphan search: it reads every server's database list, and what it finds waits for an operator
 * anyway (GET /admin/orphans computes the list on demand), and the quota sweep (QUOTA_SWEEP_INTERVAL_MS),
 * which reads every organization's database size.
 */
export function declareSweeps(deps: WorkerSweepDeps) {
  const { settings, store, jobs, logger, dumps } = deps;
  const { intervalMs, stuckAfterMs } = settings;
  return {
    [SWEEPS.purgesDue]: { intervalMs, run: () => startDuePurges({ store, jobs, logger, stuckAfterMs }) },
    [SWEEPS.stuckOrganizations]: { intervalMs, run: () => resumeStuckOrganizations({ store, jobs, logger, stuckAfterMs }) },
    [SWEEPS.lostExports]: { intervalMs, run: () => resumeLostExports({ dumps, jobs, logger, stuckAfterMs }) },
    [SWEEPS.orphans]: { intervalMs: settings.orphansIntervalMs, run: () => detectOrphans(deps) },
    [SWEEPS.expiredExports]: { intervalMs, run: () => expireExports({ dumps }) },
    [SWEEPS.expiredRefreshTokens]: { intervalMs, run: () => deleteExpiredRefreshTokens(deps.refreshTokens) },
    [SWEEPS.auditRetention]: { intervalMs, run: () => expireAuditEntries(deps.audit, deps.auditRetentionDays) },
    [SWEEPS.backups]: { intervalMs, run: () => scheduleBackups({ ...deps.backups, jobs, logger, stuckAfterMs }) },
    [SWEEPS.expiredBackups]: { intervalMs, run: () => expireBackups({ ...deps.backups, jobs, logger, stuckAfterMs }) },
    [SWEEPS.restoreDrills]: { intervalMs, run: () => drillRestores({ ...deps.drills, logger }) },
    [SWEEPS.spareDatabases]: { intervalMs, run: () => deps.spares.refillAll() },
    [SWEEPS.quotas]: { intervalMs: deps.quotas.intervalMs, run: () => sweepQuotas({ ...deps.quotas, servers: deps.servers, store, logger }) },
  } satisfies SweepDeclarations;
}

/** The declared sweeps, each with its own summary type (tests run one pass and read it). */
export type WorkerSweeps = ReturnType<typeof declareSweeps>;
