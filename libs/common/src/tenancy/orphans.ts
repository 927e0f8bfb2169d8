import { Client } from 'pg';
import type { DatabaseServer } from '../fleet/database-server-store';
import type { OrganizationStatus } from '../organizations/organization-status';
import type { DatabaseOwner, OrganizationStore } from '../organizations/organization-store';
import { organizationIdOfMarker, replacedNameFor, stagingNameFor } from './database-names';

export type OrphanKind = 'database_without_organization' | 'organization_without_database';

export interface Orphan {
  kind: OrphanKind;
  database: string;
  /** The name of the database server where the database is (or should be). */
  server: string;
  orgId: string;
  /** The organization's status, when it has a row. */
  status?: OrganizationStatus;
}

export interface OrphanReport {
  orphans: Orphan[];
  /** Servers that could not be read: their orphans are unknown, not absent. */
  unreachableServers: string[];
}

/** While provisioning may still be building it, a staging database is expected, not orphaned. */
const STAGING_EXPECTED: readonly OrganizationStatus[] = ['pending', 'provisioning', 'failed', 'deleted', 'purging', 'moving', 'restoring'];

type ServerToCheck = Pick<DatabaseServer, 'id' | 'name' | 'adminUrl'>;

/**
 * Compares each server's databases with the control plane, both ways: a database with our
 * organization marker that no live organization expects on that server (a source a move did not
 * get to drop is one), and an active organization whose database is not on its server.
 * Read-only: deciding what to drop is an operator's call.
 */
export async function findOrphans(servers: ServerToCheck[], databasePrefix: string, store: Pick<OrganizationStore, 'databaseOwners'>): Promise<OrphanReport> {
  const owners = await store.databaseOwners();
  const listed = await Promise.allSettled(servers.map((server) => listMarkedDatabases(server.adminUrl, databasePrefix)));
  const report: OrphanReport = { orphans: [], unreachableServers: [] };
  servers.forEach((server, i) => {
    const result = listed[i];
    if (result.status === 'rejected') report.unreachableServers.push(server.name);
    else report.orphans.push(...compare(server, result.value, owners));
  });
  return report;
}

interface MarkedDatabase {
  name: string;
  /** Its `COMMENT ON DATABASE` (ours name the organization), null when it has none. */
  marker: string | null;
}

/** Every database of the server whose name starts with `prefix`, with its marker: one catalog read, nothing more. */
async function listMarkedDatabases(adminUrl: string, prefix: string): Promise<MarkedDatabase[]> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session surfaces on the query instead
  await client.connect();
  try {
    const { rows } = await client.query<MarkedDatabase>(
      // left() rather than LIKE: '_' in a prefix would be a LIKE wildcard.
      "SELECT datname AS name, shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname",
      [prefix],
    );
    return rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function compare(server: ServerToCheck, databases: MarkedDatabase[], owners: DatabaseOwner[]): Orphan[] {
  const expected = new Map<string, OrganizationStatus>();
  for (const owner of owners) {
    // A moving organization's copy on its target is expected too, until the move ends.
    const here = owner.databaseServerId === server.id || (owner.status === 'moving' && owner.movingToServerId === server.id);
    if (!here) continue;
    expected.set(owner.databaseName, owner.status);
    if (STAGING_EXPECTED.includes(owner.status)) expected.set(stagingNameFor(owner.databaseName), owner.status);
    // An in-place restore's replaced database, until its last step drops it.
    if (owner.status === 'restoring') expected.set(replacedNameFor(owner.databaseName), owner.status);
  }
  const orphans: Orphan[] = [];
  const existing = new Set(databases.map((d) => d.name));
  for (const database of databases) {
    const orgId = organizationIdOfMarker(database.marker);
    if (orgId && !expected.has(database.name)) orphans.push({ kind: 'database_without_organization', database: database.name, server: server.name, orgId });
  }
  for (const owner of owners) {
    if (owner.status === 'active' && owner.databaseServerId === server.id && !existing.has(owner.databaseName)) {
      orphans.push({ kind: 'organization_without_database', database: owner.databaseName, server: server.name, orgId: owner.id, status: owner.status });
    }
  }
  return orphans;
}
