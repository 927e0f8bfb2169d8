import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { findOrphans, type Orphan } from '@orgms/common/tenancy/orphans';
import { orphanDatabasesGauge } from '../metrics';
import type { OrganizationServers } from './organization-servers';

export interface OrphansSweepDeps {
  databasePrefix: string;
  servers: OrganizationServers;
  store: Pick<OrganizationStore, 'databaseOwners'>;
  logger: Logger;
}

/**
 * Looks for orphans both ways on every server in service and reports them (log, the
 * `orgms_orphans` gauge; the API's GET /admin/orphans shows them on demand): it never drops
 * anything, which is an operator's call.
 */
export async function detectOrphans({
  databasePrefix,
  servers,
  store,
  logger,
}: OrphansSweepDeps): Promise<{ orphans: Orphan[]; unreachableServers: string[] }> {
  const { orphans, unreachableServers } = await findOrphans(await servers.directory.inService(), databasePrefix, store);
  if (unreachableServers.length > 0) logger.warn('could not look for orphans on unreachable database servers', { servers: unreachableServers });
  orphanDatabasesGauge.set({ kind: 'database_without_organization' }, orphans.filter((o) => o.kind === 'database_without_organization').length);
  orphanDatabasesGauge.set({ kind: 'organization_without_database' }, orphans.filter((o) => o.kind === 'organization_without_database').length);
  for (const orphan of orphans) logger.warn('orphan found; not touching it', { ...orphan });
  return { orphans, unreachableServers };
}
