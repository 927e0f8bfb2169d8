import { randomUUID } from 'node:crypto';
import {
  type Config,
  databaseNameFor,
  enqueueProvision,
  hashPassword,
  type Logger,
  type Organization,
  type OrganizationStatus,
  type OrganizationStore,
  type ProvisioningQueue,
  withTimeout,
} from '@orgms/common';
import { type Page, pageQuery, withCursor } from './pagination';
import { slugify } from './slug';

/** How long a request may wait for Redis before leaving the enqueue to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 1000;

export interface CreateOrganizationInput {
  organization_name: string;
  email: string;
  password: string;
}

export interface OrganizationsServiceDeps {
  config: Config;
  store: OrganizationStore;
  provisioningQueue: ProvisioningQueue;
  logger: Logger;
}

export class OrganizationsService {
  constructor(private readonly deps: OrganizationsServiceDeps) {}

  /**
   * Records the organization as `pending`, then asks the worker to provision it. The row is
   * committed before the enqueue, so if Redis is down nothing is lost: the reconciler
   * enqueues it later and the caller still gets its 202.
   */
  async create(input: CreateOrganizationInput, requestId: string): Promise<Organization> {
    const id = randomUUID();
    const org = await this.deps.store.create(
      {
        id,
        name: input.organization_name,
        slug: slugify(input.organization_name),
        databaseName: databaseNameFor(id, this.deps.config.orgDatabasePrefix),
        adminEmail: input.email,
        pendingAdminPasswordHash: await hashPassword(input.password, this.deps.config.bcryptRounds),
      },
      { requestId },
    );
    try {
      await withTimeout(enqueueProvision(this.deps.provisioningQueue, { orgId: id, requestId }), ENQUEUE_TIMEOUT_MS, 'enqueueing provisioning');
    } catch (error) {
      this.deps.logger.warn('could not enqueue provisioning; the reconciler will', { orgId: id, error: (error as Error).message });
    }
    return org;
  }

  async list(filter: { status?: OrganizationStatus; limit: number; cursor?: string }): Promise<Page<Organization>> {
    return withCursor(await this.deps.store.list({ ...pageQuery(filter), status: filter.status }));
  }

  /** The live organization with this name as it looks (any case, full width, look-alike letters), if any. */
  findLiveByName(name: string): Promise<Organization | undefined> {
    return this.deps.store.findLiveByName(name);
  }
}
