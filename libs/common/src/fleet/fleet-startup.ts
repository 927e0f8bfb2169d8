import type { TenancyConfig } from '../config';
import type { Logger } from '../logger';
import type { OrganizationStore } from '../organizations/organization-store';
import type { DatabaseServer, DatabaseServerStore } from './database-server-store';
import { lockDownServer } from './server-lockdown';
import { probeServer } from './server-probe';

/**
 * At every start (API and worker): registers ORG_DATABASE_URL's server as `default` when the
 * fleet is empty, gives it the organizations recorded before the fleet existed, seals again
 * with the current key the credentials sealed with an older one, and closes every server's shared
 * databases to organization roles (servers registered before that existed too). Each step is idempotent.
 * `default` gives organizations their own roles only if ORG_DATABASE_URL's role may CREATE ROLE
 * (as seen when it is registered); otherwise every start says that they share that role.
 */
export async function prepareFleet(
  tenancy: Pick<TenancyConfig, 'serverUrl' | 'pools' | 'fleet' | 'databasePrefix'>,
  servers: DatabaseServerStore,
  organizations: Pick<OrganizationStore, 'assignUnplacedTo'>,
  logger: Logger,
): Promise<DatabaseServer> {
  const probe = await probeServer(tenancy.serverUrl);
  const fallback = await servers.ensureDefault({
    adminUrl: tenancy.serverUrl,
    poolUrl: null,
    capacity: tenancy.fleet.defaultServerCapacity,
    connectionBudget: tenancy.pools.budget,
    tenantRoles: !probe.ok || probe.mayCreateRoles,
  });
  if (!fallback.tenantRoles) {
    logger.warn('organizations on this database server share its admin role: it may not CREATE ROLE', { server: fallback.name });
  }
  const assigned = await organizations.assignUnplacedTo(fallback.id);
  const resealed = await servers.resealStale();
  await Promise.all((await servers.list()).map((server) => lockDownServer(server, tenancy.databasePrefix, logger)));
  if (assigned > 0 || resealed > 0) logger.info('database server fleet prepared', { server: fallback.name, assigned, resealed });
  return fallback;
}
