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

/** The default server as stored, from which the API document's fleet example is rendered above. */
const defaultServer: DatabaseServerWithLoad = {
  id: '7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
  name: 'default',
  adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  poolUrl: null,
  capacity: 1000,
  connectionBudget: 40,
  tenantRoles: true,
  status: 'active',
  organizations: 12,
  createdAt: new Date('2026-11-21T21:13:17.815Z'),
  updatedAt: new Date('2026-11-21T21:13:17.815Z'),
};

/** The document's example of the fleet (components.examples), so it cannot drift from the answers. */
export const databaseServerExamples = {
  DefaultFleet: presentDatabaseServerList([defaultServer]),
};
