import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { DumpInProgressError, type OrganizationDumpStore, type OrganizationExport } from '@orgms/common/data-safety/organization-dump-store';
import { AppError, ConflictError, ServiceUnavailableError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { JOBS, jobIds } from '@orgms/common/queues/registry';
import type { TenantWorkQueue } from '@orgms/common/queues/tenant-work-queue';
import type { JobHandover } from '../http/job-handover';

/** 410: the export existed, but its time is up and its file is deleted. */
export class ExportGoneError extends AppError {
  constructor(detail: string) {
    super(410, 'gone', 'Gone', detail);
  }
}

/** 503: the ready exports use all the disk EXPORT_DISK_LIMIT_BYTES allows; room comes back as they expire. */
export class ExportStorageFullError extends ServiceUnavailableError {
  constructor(retryAfterSeconds: number) {
    super(
      'The exports waiting to be downloaded use all the disk set aside for exports; ask again once older exports have expired.',
      retryAfterSeconds,
      {},
      'export-storage-full',
      'Export storage full',
    );
  }
}

/** When no ready export expires sooner (a cap smaller than one export), ask again after a while anyway. */
const STORAGE_FULL_RETRY_AFTER_SECONDS = 3600;

export interface OrganizationExportsDeps {
  dumps: Pick<OrganizationDumpStore, 'create' | 'get' | 'exportDiskUsage'>;
  queue: Pick<TenantWorkQueue, 'add'>;
  /** Where an export job Redis refuses waits for the reconnect. */
  handover: Pick<JobHandover, 'submit'>;
  /** EXPORT_DIR, absolute: where the worker writes the files. */
  dir: string;
  /** EXPORT_DISK_LIMIT_BYTES: what the ready exports may use together before new ones are refused. */
  diskLimitBytes: number;
}

/** An export ready to be sent: its row, the open file and its size. The caller closes the file. */
export interface ExportDownload {
  export: OrganizationExport;
  file: FileHandle;
  size: number;
  /** `<slug>-<YYYY-MM-DD>.dump`, of safe characters only. */
  fileName: string;
}

/**
 * Exports of an organization's database (`pg_dump -Fc`): the API records the request and asks
 * the worker for the dump (apps/worker export.service.ts), then shows and serves the file.
 * Every lookup names the organization and the export together.
 */
export class OrganizationExportsService {
  constructor(private readonly deps: OrganizationExportsDeps) {}

  /**
   * Records an export and asks the worker for it: refused (nothing recorded) while the ready
   * exports fill the disk cap (503), or while the organization has one queued or running (409
   * naming it; the database decides between racing requests).
   */
  async create(orgId: string, requestId: string): Promise<OrganizationExport> {
    const usage = await this.deps.dumps.exportDiskUsage();
    if (usage.bytes >= this.deps.diskLimitBytes) {
      const seconds =
        usage.msUntilNextExpiry === null
          ? STORAGE_FULL_RETRY_AFTER_SECONDS
          : Math.min(Math.ceil(usage.msUntilNextExpiry / 1000), STORAGE_FULL_RETRY_AFTER_SECONDS);
      throw new ExportStorageFullError(Math.max(1, seconds));
    }
    let created: OrganizationExport;
    try {
      created = await this.deps.dumps.create('export', orgId, requestId);
    } catch (error) {
      if (error instanceof DumpInProgressError) throw new DumpInProgressError('export', error.dumpId, { export_url: exportUrl(orgId, error.dumpId) });
      throw error;
    }
    const data = { exportId: created.id, orgId, requestId };
    await this.deps.handover.submit(`export:${created.id}`, () => this.deps.queue.add(JOBS.export, data, { jobId: jobIds.export(created.id) }));
    return created;
  }

  get(orgId: string, exportId: string): Promise<OrganizationExport> {
    return this.deps.dumps.get('export', orgId, exportId);
  }

  /** 409 (with `export_status`) until the export is ready; 410 once it has expired or its file is gone. */
  async download(org: Pick<Organization, 'id' | 'slug'>, exportId: string): Promise<ExportDownload> {
    const found = await this.deps.dumps.get('export', org.id, exportId);
    if (found.status === 'expired') throw new ExportGoneError('This export has expired and its file is deleted; ask for a new one.');
    if (found.status !== 'ready') {
      throw new ConflictError(`The export is ${found.status}; it can be downloaded once it is ready.`, { export_status: found.status });
    }
    // The file name is made of our own ids (never of user input); O_NOFOLLOW refuses a planted link.
    let file: FileHandle;
    try {
      file = await open(join(this.deps.dir, `${org.id}-${found.id}.dump`), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      throw new ExportGoneError('The file of this export is no longer there; ask for a new one.');
    }
    const { size } = await file.stat();
    return { export: found, file, size, fileName: downloadName(org.slug, found.createdAt) };
  }
}

/** Where an export is read (the 202's `Location`, the 409's `export_url`). */
export function exportUrl(orgId: string, exportId: string): string {
  return `/organizations/${orgId}/exports/${exportId}`;
}

/** `<slug>-<YYYY-MM-DD>.dump`: lower-case letters, digits and dashes only, whatever the slug holds. */
export function downloadName(slug: string | null | undefined, createdAt: Date): string {
  const safe =
    (slug ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'organization';
  return `${safe}-${new Date(createdAt).toISOString().slice(0, 10)}.dump`;
}
