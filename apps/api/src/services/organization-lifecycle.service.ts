import { enqueueDeprovision, enqueueProvision, type Logger, type Organization, type OrganizationStore, type ProvisioningQueue } from '@orgms/common';
import { slugify } from './slug';

export interface UpdateOrganizationInput {
  organization_name?: string;
  email?: string;
}

/**
 * Everything after creation (issue 4): rename, delete, retry. Status changes go through
 * OrganizationStore.transition (409 on an illegal one); the work itself is the worker's.
 */
export class OrganizationLifecycleService {
  constructor(private readonly deps: { store: OrganizationStore; provisioningQueue: ProvisioningQueue; logger: Logger }) {}

  /** Display name (and slug) and admin email only: the database name never changes, no data moves. */
  async update(id: string, input: UpdateOrganizationInput, requestId: string): Promise<Organization> {
    const patch: { name?: string; slug?: string; adminEmail?: string } = {};
    if (input.organization_name !== undefined) Object.assign(patch, { name: input.organization_name, slug: slugify(input.organization_name) });
    if (input.email !== undefined) patch.adminEmail = input.email;
    return this.deps.store.amend(id, patch, { requestId, detail: `updated ${Object.keys(input).join(', ')}` });
  }

  /**
   * `deleting` now, `deleted` once the worker has dropped the database. A DELETE sent again
   * while `deleting` is accepted and only re-enqueues the job.
   */
  async delete(id: string, requestId: string): Promise<Organization> {
    const org = await this.deps.store.transition(id, 'deleting', { step: 'delete_requested', requestId, detail: 'deletion requested' });
    await this.enqueue(() => enqueueDeprovision(this.deps.provisioningQueue, { orgId: id, requestId }), id);
    return org;
  }

  /** Re-runs provisioning of a `failed` organization; its half-made database is adopted or rebuilt. */
  async retry(id: string, requestId: string): Promise<Organization> {
    const org = await this.deps.store.transition(id, 'provisioning', { onlyFrom: ['failed'], step: 'retry_requested', requestId, detail: 'retry requested' });
    await this.enqueue(() => enqueueProvision(this.deps.provisioningQueue, { orgId: id, requestId }), id);
    return org;
  }

  /** The status change is committed; if Redis is down the reconciler enqueues the job later. */
  private async enqueue(add: () => Promise<boolean>, orgId: string): Promise<void> {
    try {
      await add();
    } catch (error) {
      this.deps.logger.warn('could not enqueue; the reconciler will', { orgId, error: (error as Error).message });
    }
  }
}
