import { Client } from 'pg';
import type { TenancyConfig } from '../config';
import type { OrganizationStore } from '../control-plane/organization-store';
import type { OrganizationStatus } from '../entities/organization-status';
import { organizationIdOfMarker, stagingNameFor } from './database-names';

export type OrphanKind = 'database_without_organization' | 'organization_without_database';

export interface Orphan {
  kind: OrphanKind;
  database: string;
  orgId: string;
  /** The organization's status, when it has a row. */
  status?: OrganizationStatus;
}

/** While provisioning may still be building it, a staging database is expected, not orphaned. */
const STAGING_EXPECTED: readonly OrganizationStatus[] = ['pending', 'provisioning', 'failed', 'deleting'];

/**
 * Compares the organization server's databases with the control plane, both ways: a database
 * with our organization marker that no live organization owns, and an active organization whose
 * database is gone. Read-only: deciding what to drop is an operator's call.
 */
export async function findOrphans(
  tenancy: Pick<TenancyConfig, 'serverUrl' | 'databasePrefix'>,
  store: Pick<OrganizationStore, 'databaseOwners'>,
): Promise<Orphan[]> {
  const [databases, owners] = await Promise.all([listMarkedDatabases(tenancy.serverUrl, tenancy.databasePrefix), store.databaseOwners()]);
  return compare(databases, owners);
}

interface MarkedDatabase {
  name: string;
  /** Its `COMMENT ON DATABASE` (ours name the organization), null when it has none. */
  marker: string | null;
}

/** Every database of the server whose name starts with `prefix`, with its marker: one catalog read, nothing more. */
async function listMarkedDatabases(serverUrl: string, prefix: string): Promise<MarkedDatabase[]> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5000 });
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

function compare(databases: MarkedDatabase[], owners: Awaited<ReturnType<OrganizationStore['databaseOwners']>>): Orphan[] {
  const expected = new Map<string, OrganizationStatus>();
  for (const owner of owners) {
    expected.set(owner.databaseName, owner.status);
    if (STAGING_EXPECTED.includes(owner.status)) expected.set(stagingNameFor(owner.databaseName), owner.status);
  }
  const orphans: Orphan[] = [];
  const existing = new Set(databases.map((d) => d.name));
  for (const database of databases) {
    const orgId = organizationIdOfMarker(database.marker);
    if (orgId && !expected.has(database.name)) orphans.push({ kind: 'database_without_organization', database: database.name, orgId });
  }
  for (const owner of owners) {
    if (owner.status === 'active' && !existing.has(owner.databaseName)) {
      orphans.push({ kind: 'organization_without_database', database: owner.databaseName, orgId: owner.id, status: owner.status });
    }
  }
  return orphans;
}
