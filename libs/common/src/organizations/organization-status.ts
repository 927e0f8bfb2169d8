/** The states of an organization (docs/architecture.md, "Organization states"). */
export const ORGANIZATION_STATUSES = ['pending', 'provisioning', 'active', 'moving', 'restoring', 'failed', 'deleted', 'purging', 'purged'] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

/** Every organization starts here: recorded, not yet picked up by the worker. */
export const INITIAL_STATUS = 'pending' satisfies OrganizationStatus;

/**
 * The only legal status changes, and the one table the store enforces (README "States").
 * A status that leads to itself records progress without changing: a provisioning step or
 * attempt, a purge step. `active → moving → active` copies the database to another server (a
 * failed move ends where it started, on the source, still `active`); an organization is not
 * deleted in the middle of a move. `active → restoring → active` replaces its data with a
 * backup's (a failed restore ends on the data it had, still `active`); nothing else may happen to
 * it meanwhile. `deleted` keeps the database for the grace period (restore
 * leads back to `active`); `purging` archives it and drops it only once the archive is verified;
 * `purged` is the tombstone.
 */
const TRANSITIONS: Record<OrganizationStatus, readonly OrganizationStatus[]> = {
  pending: ['provisioning', 'deleted'],
  provisioning: ['provisioning', 'active', 'failed', 'deleted'],
  active: ['moving', 'restoring', 'deleted'],
  moving: ['moving', 'active'],
  restoring: ['restoring', 'active'],
  failed: ['provisioning', 'deleted'],
  deleted: ['active', 'purging'],
  purging: ['purging', 'purged'],
  purged: [],
};

export function canTransition(from: OrganizationStatus, to: OrganizationStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses from which an organization may become `to`. */
export function statusesLeadingTo(to: OrganizationStatus): OrganizationStatus[] {
  return ORGANIZATION_STATUSES.filter((from) => canTransition(from, to));
}

/** Name and admin email may change until deletion: a deleted organization keeps the name it had. */
export const EDITABLE_STATUSES: readonly OrganizationStatus[] = ['pending', 'provisioning', 'active', 'moving', 'restoring', 'failed'];

/** Statuses in which the worker still has something to do, so a client should poll again. */
export const IN_PROGRESS_STATUSES: readonly OrganizationStatus[] = ['pending', 'provisioning', 'moving', 'restoring', 'purging'];

/**
 * Statuses that no longer hold their name (another organization may take it) and no longer count
 * as live. Their database is still there while `deleted` or `purging` (it is gone once `purged`).
 */
export const RELEASED_STATUSES: readonly OrganizationStatus[] = ['deleted', 'purging', 'purged'];

/** Statuses in which the organization's database serves its users: reads always, writes only when `active`. */
export const SERVING_STATUSES: readonly OrganizationStatus[] = ['active', 'moving', 'restoring'];

/** Serving statuses in which writes answer 503 + Retry-After: the database is being copied or replaced. */
export const WRITES_PAUSED_STATUSES: readonly OrganizationStatus[] = ['moving', 'restoring'];

/**
 * The steps of each pipeline, in the order they run: the one list each declaration takes its
 * order from (apps/worker/src/pipelines); `step` on the organization names the one running or last run.
 */
export const MOVE_STEPS = ['stop_writes', 'copy', 'verify', 'switch', 'drop_source'] as const;
export type MoveStep = (typeof MOVE_STEPS)[number];

/**
 * An in-place restore: writes stop, the current data is backed up (`pre_restore`), the backup is
 * restored into a staging database and checked against its manifest, swapped in for the live
 * database (renamed away), and the old one dropped.
 */
export const RESTORE_STEPS = ['stop_writes', 'pre_restore_backup', 'restore', 'verify', 'swap', 'drop_old'] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

/** The database is dropped only after its archive is verified. */
export const PURGE_STEPS = ['archive', 'verify_archive', 'drop_database'] as const;
export type PurgeStep = (typeof PURGE_STEPS)[number];

export const PROVISIONING_STEPS = ['create_database', 'database_role', 'migrate', 'seed_admin', 'activate'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
