/** The states of an organization (DESIGN §3, as far as they exist today). */
export const ORGANIZATION_STATUSES = ['pending', 'provisioning', 'active', 'moving', 'failed', 'deleting', 'deleted'] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

/** Every organization starts here: recorded, not yet picked up by the worker. */
export const INITIAL_STATUS: OrganizationStatus = 'pending';

/**
 * The only legal status changes, and the one table the store enforces (README "States").
 * A status that leads to itself records progress without changing: a provisioning step or
 * attempt, a deletion step, a DELETE sent again. `deleting → deleted` drops the database at once.
 * `active → moving → active` copies the database to another server (a failed move ends where it
 * started, on the source, still `active`); an organization is not deleted in the middle of a move.
 */
const TRANSITIONS: Record<OrganizationStatus, readonly OrganizationStatus[]> = {
  pending: ['provisioning', 'deleting'],
  provisioning: ['provisioning', 'active', 'failed', 'deleting'],
  active: ['moving', 'deleting'],
  moving: ['moving', 'active'],
  failed: ['provisioning', 'deleting'],
  deleting: ['deleting', 'deleted'],
  deleted: [],
};

export function canTransition(from: OrganizationStatus, to: OrganizationStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses from which an organization may become `to`. */
export function statusesLeadingTo(to: OrganizationStatus): OrganizationStatus[] {
  return ORGANIZATION_STATUSES.filter((from) => canTransition(from, to));
}

/** Name and admin email may change until deletion starts: a tombstone keeps the name it died with. */
export const EDITABLE_STATUSES: readonly OrganizationStatus[] = ['pending', 'provisioning', 'active', 'moving', 'failed'];

/** Statuses in which the worker still has something to do, so a client should poll again. */
export const IN_PROGRESS_STATUSES: readonly OrganizationStatus[] = ['pending', 'provisioning', 'moving', 'deleting'];

/** Statuses in which the organization's database serves its users: reads always, writes only when `active`. */
export const SERVING_STATUSES: readonly OrganizationStatus[] = ['active', 'moving'];

/** The steps of a move, in order (DESIGN §10): `step` names the one running. */
export const MOVE_STEPS = ['stop_writes', 'copy', 'verify', 'switch', 'drop_source'] as const;
export type MoveStep = (typeof MOVE_STEPS)[number];

/** The provisioning steps, in order; `step` on the organization names the one running or last run. */
export const PROVISIONING_STEPS = ['create_database', 'migrate', 'seed_admin', 'activate'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
