import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { findOrphans, type OrphanReport } from '@orgms/common/tenancy/orphans';

/**
 * Databases without an organization and active organizations without a database, on every
 * server, compared on request (the worker's reconciler finds the same on its schedule). Never
 * drops anything.
 */
export class OrphansService {
  constructor(
    private readonly deps: { databasePrefix: string; servers: Pick<ServerDirectory, 'inService'>; organizations: Pick<OrganizationStore, 'databaseOwners'> },
  ) {}

  async list(): Promise<OrphanReport> {
    return findOrphans(await this.deps.servers.inService(), this.deps.databasePrefix, this.deps.organizations);
  }
}
