import type { EntityManager } from 'typeorm';
import { sqlStateOf } from '../database/database-errors';
import { ConflictError } from '../errors';
import { organizationNameKey } from '../organizations/organization-names';
import { Organization } from './organization.entity';

/**
 * The selectable columns of `organizations`, named like the entity's properties (no name key, no
 * hash), and the name of its database server and whether it has its own database role
 * (tenant_database_roles, granted, on a server with tenant roles), read with it for every representation.
 */
export const ORGANIZATION_COLUMNS = `id, name, slug, external_id AS "externalId", metadata, database_name AS "databaseName", status, step, attempts, last_error AS "lastError",
  admin_email AS "adminEmail", schema_version AS "schemaVersion", created_at AS "createdAt", updated_at AS "updatedAt",
  database_server_id AS "databaseServerId", moving_to_server_id AS "movingToServerId",
  restoring_backup_id AS "restoringBackupId", pre_restore_backup_id AS "preRestoreBackupId",
  deleted_at AS "deletedAt", deleted_from AS "deletedFrom", purge_after AS "purgeAfter", restored_from_archive_id AS "restoredFromArchiveId",
  session_generation AS "sessionGeneration",
  (SELECT s.name FROM database_servers s WHERE s.id = organizations.database_server_id) AS "databaseServer",
  CASE WHEN (SELECT s.tenant_roles FROM database_servers s WHERE s.id = organizations.database_server_id)
        AND EXISTS (SELECT 1 FROM tenant_database_roles r WHERE r.org_id = organizations.id AND r.granted_at IS NOT NULL)
       THEN 'own' ELSE 'shared' END AS "databaseRole"`;

/**
 * One organization with one plain parameterized SELECT (optionally locking the row). Every
 * organization-scoped request and every provisioning step reads one, and TypeORM's query
 * builder cost more CPU than the query itself. `where` is a constant of the store, never input.
 */
export async function selectOrganization(
  db: EntityManager,
  where: string,
  params: unknown[],
  options: { forUpdate?: boolean } = {},
): Promise<Organization | undefined> {
  const rows: Organization[] = await db.query(
    `SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE ${where}${options.forUpdate ? ' FOR UPDATE' : ''}`,
    params,
  );
  return rows.length === 0 ? undefined : asOrganization(rows[0]);
}

export function asOrganization(row: object): Organization {
  return Object.assign(new Organization(), row);
}

/** The columns to write for `patch`: a new name brings its name key, which the unique index compares. */
export function withNameKey<T extends { name?: string }>(patch: T | undefined): T & { nameKey?: string } {
  return (patch?.name === undefined ? { ...patch } : { ...patch, nameKey: organizationNameKey(patch.name) }) as T & { nameKey?: string };
}

/** The unique index that keeps an external id to one organization (not purged): its violation names the field. */
const EXTERNAL_ID_INDEX = 'organizations_external_id_uq';

/**
 * Runs a write that may give an organization `name` or `externalId`. The partial unique indexes
 * decide races: on the name key (the name as it looks: NFKC, case folded, confusable skeleton)
 * among live organizations, and on the external id among those not purged. Of concurrent
 * duplicates exactly one wins, and the others get this 409, which says which value is taken.
 */
export async function refusingTakenValues<T>(values: { name?: string; externalId?: string | null }, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (sqlStateOf(error) !== '23505') throw error;
    if ((error as { constraint?: string }).constraint === EXTERNAL_ID_INDEX)
      throw new ConflictError(`An organization with external_id "${values.externalId}" already exists.`, { field: 'external_id' });
    throw new ConflictError(`An organization named "${values.name}" (or a name that looks the same) already exists.`);
  }
}
