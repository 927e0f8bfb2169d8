import { randomUUID } from 'node:crypto';
import type { Clock } from '@orgms/common/clock';
import { backupsToKeep, chooseBackups } from '@orgms/common/data-safety/backup-schedule';
import { DumpInProgressError, type OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { SWEEPS } from '@orgms/common/queues/registry';
import type { OrganizationDumpsService } from './organization-dumps.service';

export interface BackupSweepDeps {
  dumps: Pick<OrganizationDumpStore, 'backupCandidates' | 'create' | 'retainedBackups' | 'expireNow'>;
  service: Pick<OrganizationDumpsService, 'expireDue' | 'unfinished'>;
  jobs: Pick<OrganizationJobs, 'backup'>;
  clock: Clock;
  logger: Logger;
  /** BACKUP_INTERVAL, BACKUP_CONCURRENCY, BACKUP_KEEP_DAILY, BACKUP_KEEP_WEEKLY. */
  settings: { intervalMs: number; concurrencyPerServer: number; keepDaily: number; keepWeekly: number };
  /** RECONCILE_STUCK_AFTER_MS: a backup still queued or running this long after it was asked for may have lost its job. */
  stuckAfterMs: number;
}

/**
 * One pass of the schedule: a backup whose job Redis lost is asked for again under its own job
 * id, then every active organization whose slot has come since its last scheduled backup gets
 * one, at most BACKUP_CONCURRENCY queued or running per database server (the others wait for a
 * later pass), all on the tenant-work queue.
 */
export async function scheduleBackups({
  dumps,
  service,
  jobs,
  clock,
  logger,
  settings,
  stuckAfterMs,
}: BackupSweepDeps): Promise<{ resumed: string[]; scheduled: string[] }> {
  const resumed: string[] = [];
  for (const lost of await service.unfinished('backup', stuckAfterMs)) {
    const requestId = lost.requestId ?? `${SWEEPS.backups}-${randomUUID()}`;
    if (await jobs.backup({ backupId: lost.id, orgId: lost.orgId, requestId })) resumed.push(lost.id);
  }
  const scheduled: string[] = [];
  for (const { orgId } of chooseBackups(await dumps.backupCandidates(), { now: clock.now(), ...settings })) {
    const requestId = `${SWEEPS.backups}-${randomUUID()}`;
    try {
      const backup = await dumps.create('backup', orgId, requestId, 'scheduled');
      await jobs.backup({ backupId: backup.id, orgId, requestId });
      scheduled.push(backup.id);
    } catch (error) {
      // A backup asked for meanwhile (by an admin) is as good as this one.
      if (!(error instanceof DumpInProgressError)) throw error;
    }
  }
  if (resumed.length > 0) logger.warn('lost backups enqueued again', { backupIds: resumed });
  if (scheduled.length > 0) logger.info('scheduled backups asked for', { count: scheduled.length });
  return { resumed, scheduled };
}

/**
 * Retention: of each organization's scheduled backups, the newest of each of the latest
 * BACKUP_KEEP_DAILY days and then BACKUP_KEEP_WEEKLY weeks are kept and the others expire;
 * manual ones expire BACKUP_MANUAL_TTL after they were verified. Every expired backup's file is
 * deleted and the backup marked `expired`.
 */
export async function expireBackups({ dumps, service, settings }: BackupSweepDeps): Promise<{ expired: number }> {
  const byOrganization = new Map<string, { id: string; createdAt: Date }[]>();
  for (const backup of await dumps.retainedBackups()) byOrganization.set(backup.orgId, [...(byOrganization.get(backup.orgId) ?? []), backup]);
  for (const backups of byOrganization.values()) {
    const kept = backupsToKeep(backups, settings);
    await dumps.expireNow(backups.filter((backup) => !kept.has(backup.id)).map((backup) => backup.id));
  }
  return { expired: await service.expireDue('backup') };
}
