import type { TenancyConfig } from '../config';
import type { DatabaseServer, DatabaseServerStore } from '../control-plane/database-server-store';
import type { OrganizationStore } from '../control-plane/organization-store';
import type { Logger } from '../logger';

/**
 * At every start (API and worker): registers ORG_DATABASE_URL's server as `default` when the
 * fleet is empty, gives it the organizations recorded before the fleet existed, and seals again
 * with the current key the credentials sealed with an older one. Each step is idempotent.
 */
export async function prepareFleet(
  tenancy: Pick<TenancyConfig, 'serverUrl' | 'pools' | 'fleet'>,
  servers: DatabaseServerStore,
  organizations: Pick<OrganizationStore, 'assignUnplacedTo'>,
  logger: Logger,
): Promise<DatabaseServer> {
  const fallback = await servers.ensureDefault({
    adminUrl: tenancy.serverUrl,
    poolUrl: null,
    capacity: tenancy.fleet.defaultServerCapacity,
    connectionBudget: tenancy.pools.budget,
  });
  const assigned = await organizations.assignUnplacedTo(fallback.id);
  const resealed = await servers.resealStale();
  if (assigned > 0 || resealed > 0) logger.info('database server fleet prepared', { server: fallback.name, assigned, resealed });
  return fallback;
}
