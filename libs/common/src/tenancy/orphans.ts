import type { Config } from '../config';
import type { OrganizationStore } from '../control-plane/organization-store';
import type { OrganizationStatus } from '../entities/organization-status';
import { DatabaseAdmin, type MarkedDatabase } from './database-admin';
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
export async function findOrphans(config: Config, store: Pick<OrganizationStore, 'databaseOwners'>): Promise<Orphan[]> {
  const admin = await DatabaseAdmin.connect(config);
  try {
    const [databases, owners] = await Promise.all([admin.listDatabases(config.orgDatabasePrefix), store.databaseOwners()]);
    return compare(databases, owners);
  } finally {
    await admin.close();
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
