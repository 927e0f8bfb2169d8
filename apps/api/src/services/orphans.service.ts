import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import { findOrphans, type OrphanReport } from '@orgms/common/tenancy/orphans';

/**
 * Databases without an organization and active organizations without a database, on every
 * server, compared on request (the worker's reconciler finds the same on its schedule). Never
 * drops anything.
 */
export class OrphansService {
  constructor(
    private readonly deps: { databasePrefix: string; servers: Pick<ServerDirectory, 'all'>; organizations: Pick<OrganizationStore, 'databaseOwners'> },
  ) {}

  async list(): Promise<OrphanReport> {
    const servers = (await this.deps.servers.all()).filter((server) => server.status !== 'disabled');
    return findOrphans(servers, this.deps.databasePrefix, this.deps.organizations);
  }
}
