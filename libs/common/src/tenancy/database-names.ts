/**
 * Database names are built from our own ids only, never from user text, and are checked
 * against a strict alphabet before they reach SQL (identifiers cannot be parameters).
 */
const SAFE_IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

export function quoteIdent(name: string): string {
  if (!SAFE_IDENTIFIER.test(name)) throw new Error('refusing an unsafe SQL identifier');
  return `"${name}"`;
}

/** `org_` + the 32 hex digits of the uuid: unique, immutable, independent of the display name. */
export function databaseNameFor(orgId: string, prefix: string): string {
  return `${prefix}${uuidHex(orgId)}`;
}

/**
 * The login role of an organization (its own PostgreSQL user, docs/operations/tenant-databases.md): named like its
 * database (roles and databases are separate namespaces), so the prefix keeps deployments that
 * share a server apart and the name says whose it is.
 */
export function roleNameFor(orgId: string, prefix: string): string {
  return databaseNameFor(orgId, prefix);
}

/** Where a database is built before it is renamed into place (the worker's tenancy/database-admin.ts). */
export function stagingNameFor(databaseName: string): string {
  return `${databaseName}_new`;
}

/** Where an in-place restore puts the live database while the restored one takes its name, until it is dropped. */
export function replacedNameFor(databaseName: string): string {
  return `${databaseName}_old`;
}

/** The `COMMENT ON DATABASE` that proves a database is ours and which organization owns it. */
export function markerFor(orgId: string): string {
  uuidHex(orgId); // the marker is spliced into SQL (COMMENT takes no parameters): only a uuid may enter
  return `orgms:organization:${orgId}`;
}

function uuidHex(orgId: string): string {
  const hex = orgId.replace(/-/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error('organization id is not a uuid');
  return hex;
}

/** The database new org databases are cloned from (docs/architecture.md, "Template fast path"); it shares the org prefix. */
export function templateNameFor(prefix: string): string {
  return `${prefix}template`;
}

/** The template's marker names the tenant migration it is at: a clone is current only if this matches. */
export function templateMarkerFor(migration: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(migration)) throw new Error('migration name is not an identifier');
  return `orgms:template:${migration}`;
}

/**
 * A spare database (and its role, named the same) on a server: `<prefix>spare_` + the 32 hex
 * digits of the spare's id (apps/worker/src/tenancy/spare-databases.ts).
 */
export function spareNameFor(spareId: string, prefix: string): string {
  return `${prefix}spare_${uuidHex(spareId)}`;
}

/** The marker of a spare database and its role: ours, but no organization's yet (so never an orphan). */
export function spareMarkerFor(spareId: string): string {
  uuidHex(spareId); // spliced into SQL like the organization marker: only a uuid may enter
  return `orgms:spare:${spareId}`;
}

/** The organization id in one of our markers, or undefined for anything else (templates, foreign databases). */
export function organizationIdOfMarker(marker: string | null | undefined): string | undefined {
  const match = /^orgms:organization:([0-9a-f-]{36})$/.exec(marker ?? '');
  return match?.[1];
}
