import { randomUUID } from 'node:crypto';
import { enqueueProvision, type Logger, type OrganizationStore, type ProvisioningQueue } from '@orgms/common';

export interface ReconcilerDeps {
  store: OrganizationStore;
  provisioningQueue: ProvisioningQueue;
  logger: Logger;
  stuckAfterMs: number;
}

/**
 * Finds organizations whose provisioning job was lost (Redis was down when the API enqueued,
 * or the job was removed) and enqueues them again under the same deterministic job id, so an
 * organization that still has a live job is never enqueued twice.
 */
export class ReconcilerService {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(): Promise<{ examined: number; enqueued: string[] }> {
    const stale = await this.deps.store.findStale(['pending', 'provisioning'], this.deps.stuckAfterMs);
    const enqueued: string[] = [];
    for (const org of stale) {
      const requestId = org.requestId ?? `reconcile-${randomUUID()}`;
      if (await enqueueProvision(this.deps.provisioningQueue, { orgId: org.id, requestId })) enqueued.push(org.id);
    }
    if (enqueued.length > 0) this.deps.logger.warn('reconciler re-enqueued organizations', { orgIds: enqueued });
    return { examined: stale.length, enqueued };
  }
}
