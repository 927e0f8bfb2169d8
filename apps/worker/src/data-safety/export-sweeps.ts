import { randomUUID } from 'node:crypto';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { SWEEPS } from '@orgms/common/queues/registry';
import type { OrganizationDumpsService } from './organization-dumps.service';

export interface ExportSweepDeps {
  dumps: Pick<OrganizationDumpsService, 'expireDue' | 'unfinished'>;
  jobs: OrganizationJobs;
  logger: Logger;
  /** RECONCILE_STUCK_AFTER_MS: an export still queued or running this long after it was asked for may have lost its job. */
  stuckAfterMs: number;
}

/**
 * An export whose job Redis lost would stay `queued` for good: each one older than the stuck
 * bound is asked for again under its own job id, so one whose job is still waiting or running
 * is left alone.
 */
export async function resumeLostExports({ dumps, jobs, logger, stuckAfterMs }: ExportSweepDeps): Promise<{ resumed: string[] }> {
  const resumed: string[] = [];
  for (const lost of await dumps.unfinished('export', stuckAfterMs)) {
    const requestId = lost.requestId ?? `${SWEEPS.lostExports}-${randomUUID()}`;
    if (await jobs.export({ exportId: lost.id, orgId: lost.orgId, requestId })) resumed.push(lost.id);
  }
  if (resumed.length > 0) logger.warn('lost exports enqueued again', { exportIds: resumed });
  return { resumed };
}

/** Deletes the files of exports past EXPORT_TTL_MS and marks them expired (their download is refused already). */
export async function expireExports({ dumps }: Pick<ExportSweepDeps, 'dumps'>): Promise<{ expired: number }> {
  return { expired: await dumps.expireDue('export') };
}
