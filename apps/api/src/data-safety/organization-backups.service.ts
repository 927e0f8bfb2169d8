import { DumpInProgressError, type OrganizationBackup, type OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { ConflictError } from '@orgms/common/errors';
import type { PageQuery } from '@orgms/common/keyset-page';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { JOBS, jobIds } from '@orgms/common/queues/registry';
import type { TenantWorkQueue } from '@orgms/common/queues/tenant-work-queue';
import type { JobHandover } from '../http/job-handover';
import { type Page, withCursor } from '../http/pagination';
import type { OrganizationsService } from '../organizations/organizations.service';

export interface OrganizationBackupsDeps {
  dumps: Pick<OrganizationDumpStore, 'create' | 'get' | 'list'>;
  queue: Pick<TenantWorkQueue, 'add'>;
  /** Where a backup job Redis refuses waits for the reconnect. */
  handover: Pick<JobHandover, 'submit'>;
  /** Where a sandbox is recorded and provisioned, like any new organization. */
  organizations: Pick<OrganizationsService, 'createFromBackup'>;
  /** `active → restoring` of an in-place restore, and its job. */
  store: Pick<OrganizationStore, 'transition'>;
  jobs: Pick<OrganizationJobs, 'restore'>;
}

/**
 * Backups of an organization's database as the API shows them: a manual one is recorded and
 * handed to the worker (apps/worker organization-dumps.service.ts); scheduled ones come from the
 * worker's backups sweep. Every lookup names the organization and the backup together.
 */
export class OrganizationBackupsService {
  constructor(private readonly deps: OrganizationBackupsDeps) {}

  /** A manual backup now; 409 naming the open one while the organization has a backup queued or running. */
  async create(orgId: string, requestId: string): Promise<OrganizationBackup> {
    let created: OrganizationBackup;
    try {
      created = await this.deps.dumps.create('backup', orgId, requestId, 'manual');
    } catch (error) {
      if (error instanceof DumpInProgressError) throw new DumpInProgressError('backup', error.dumpId, { backup_url: backupUrl(orgId, error.dumpId) });
      throw error;
    }
    const data = { backupId: created.id, orgId, requestId };
    await this.deps.handover.submit(`backup:${created.id}`, () => this.deps.queue.add(JOBS.backup, data, { jobId: jobIds.backup(created.id) }));
    return created;
  }

  get(orgId: string, backupId: string): Promise<OrganizationBackup> {
    return this.deps.dumps.get('backup', orgId, backupId);
  }

  /** A new organization (a sandbox) made of a verified backup of `source`; 409 for a backup not (or no longer) verified. */
  async restoreAsNewOrganization(source: Organization, backupId: string, name: string, requestId: string): Promise<Organization> {
    const backup = await this.restorable(source.id, backupId);
    return this.deps.organizations.createFromBackup(source, backup.id, name, requestId);
  }

  /**
   * `active → restoring` with the backup that replaces the data, then the worker's restore job
   * (apps/worker backup-restores.service.ts). 409 unless the organization is active (moving,
   * deleted, or restoring already) or the backup is verified.
   */
  async restoreInPlace(org: Organization, backupId: string, requestId: string): Promise<Organization> {
    const backup = await this.restorable(org.id, backupId);
    const restoring = await this.deps.store.transition(org.id, 'restoring', {
      onlyFrom: ['active'],
      step: null,
      requestId,
      detail: `restore of backup ${backup.id} requested`,
      patch: { restoringBackupId: backup.id, preRestoreBackupId: null, lastError: null },
    });
    await this.deps.handover.submit(`restore:${org.id}`, () => this.deps.jobs.restore({ orgId: org.id, requestId }));
    return restoring;
  }

  /** Only a verified backup is restored: its file was read back and its manifest recorded. */
  private async restorable(orgId: string, backupId: string): Promise<OrganizationBackup> {
    const backup = await this.get(orgId, backupId);
    if (backup.status !== 'verified')
      throw new ConflictError(`Backup ${backupId} is ${backup.status}; only a verified backup can be restored.`, { backup_status: backup.status });
    return backup;
  }

  async list(orgId: string, page: PageQuery): Promise<Page<OrganizationBackup>> {
    return withCursor(await this.deps.dumps.list('backup', orgId, page)) as Page<OrganizationBackup>;
  }
}

/** Where a backup is read (the 202's `Location`, the 409's `backup_url`). */
export function backupUrl(orgId: string, backupId: string): string {
  return `/organizations/${orgId}/backups/${backupId}`;
}
