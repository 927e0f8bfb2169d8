import { maskedUrl } from '@orgms/common/fleet/server-urls';
import type { DatabaseServerWithLoad } from './database-servers.service';
import type { DatabaseServerBody, DatabaseServerListBody } from './fleet.responses';

/** A database server as answers show it: URLs with the password masked, never the stored secret. */
export function presentDatabaseServer(server: DatabaseServerWithLoad): DatabaseServerBody {
  return {
    id: server.id,
    name: server.name,
    admin_url: maskedUrl(server.adminUrl),
    pool_url: server.poolUrl ? maskedUrl(server.poolUrl) : null,
    capacity: server.capacity,
    connection_budget: server.connectionBudget,
    tenant_roles: server.tenantRoles,
    status: server.status,
    organizations: server.organizations,
    free_capacity: Math.max(0, server.capacity - server.organizations),
    created_at: server.createdAt.toISOString(),
    updated_at: server.updatedAt.toISOString(),
  };
}

export function presentDatabaseServerList(servers: DatabaseServerWithLoad[]): DatabaseServerListBody {
  return { items: servers.map(presentDatabaseServer) };
}
