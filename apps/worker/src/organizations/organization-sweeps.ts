import { randomUUID } from 'node:crypto';
import { ConflictError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import { IN_PROGRESS_STATUSES, type OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { SWEEPS } from '@orgms/common/queues/registry';

export interface OrganizationSweepDeps {
  store: OrganizationStore;
  jobs: OrganizationJobs;
  logger: Logger;
  /** RECONCILE_STUCK_AFTER_MS: an organization in progress untouched this long may have lost its job. */
  stuckAfterMs: number;
}

/**
 * The end of the grace period: each deleted organization due is made `purging` (one at a time,
 * so one restored meanwhile simply stays active) and its purge enqueued. A purge whose job is
 * lost is found again as a stuck `purging` organization.
 */
export async function startDuePurges({ store, jobs, logger }: OrganizationSweepDeps): Promise<{ started: string[] }> {
  const started: string[] = [];
  for (const orgId of await store.dueForPurge()) {
    const requestId = `purge-${randomUUID()}`;
    try {
      await store.transition(orgId, 'purging', { onlyFrom: ['deleted'], step: 'archive', requestId, detail: 'grace period over' });
    } catch (error) {
      if (error instanceof ConflictError) continue;
      throw error;
    }
    await jobs.purge({ orgId, requestId });
    started.push(orgId);
  }
  if (started.length > 0) logger.info('grace period over; purging organizations', { orgIds: started });
  return { started };
}

/**
 * Finds organizations whose job was lost (Redis was down when the API enqueued, or the job was
 * removed) and enqueues them again under the same deterministic job id, so an organization
 * that still has a live job is never enqueued twice.
 *
 * A `pending` organization is looked at whatever its age: its provisioning job has one id, and
 * adding it while it waits or runs adds nothing (nor does the API's own add after its commit), so
 * a job that never reached Redis is found the moment a worker starts or its Redis connection
 * comes back (the sweep's first pass then), not RECONCILE_STUCK_AFTER_MS later. The other states
 * wait that long: their steps update the row as they go, and only an untouched one is stuck.
 */
export async function resumeStuckOrganizations(deps: OrganizationSweepDeps): Promise<{ examined: number; enqueued: string[] }> {
  const stuck = [
    ...(await deps.store.findStale(['pending'], 0)),
    ...(await deps.store.findStale(
      IN_PROGRESS_STATUSES.filter((status) => status !== 'pending'),
      deps.stuckAfterMs,
    )),
  ];
  const enqueued: string[] = [];
  for (const org of stuck) {
    const data = { orgId: org.id, requestId: org.requestId ?? `${SWEEPS.stuckOrganizations}-${randomUUID()}` };
    if (await enqueueFor(deps, org, data)) enqueued.push(org.id);
  }
  if (enqueued.length > 0) deps.logger.warn('stuck organizations enqueued again', { orgIds: enqueued });
  return { examined: stuck.length, enqueued };
}

/** The job that carries on where `org` is: a purge, a restore, a move (from the server it is still on), or provisioning. */
async function enqueueFor(
  { store, jobs }: OrganizationSweepDeps,
  org: { id: string; status: OrganizationStatus },
  data: { orgId: string; requestId: string },
): Promise<boolean> {
  if (org.status === 'purging') return jobs.purge(data);
  if (org.status === 'restoring') return jobs.restore(data);
  if (org.status === 'moving') {
    const { databaseServerId } = await store.get(org.id);
    return databaseServerId ? jobs.move({ ...data, fromServerId: databaseServerId }) : false;
  }
  return jobs.provision(data);
}
