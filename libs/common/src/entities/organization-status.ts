/** The lifecycle of an organization (DESIGN §3). Only the listed transitions are legal. */
export const ORGANIZATION_STATUSES = ['pending', 'provisioning', 'active', 'failed', 'deleting', 'deleted'] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

const LEGAL_TRANSITIONS: Record<OrganizationStatus, readonly OrganizationStatus[]> = {
  pending: ['provisioning', 'deleting'],
  provisioning: ['active', 'failed', 'deleting'],
  active: ['deleting'],
  failed: ['provisioning', 'deleting'],
  deleting: ['deleted'],
  deleted: [],
};

export function canTransition(from: OrganizationStatus, to: OrganizationStatus): boolean {
  return LEGAL_TRANSITIONS[from].includes(to);
}

/** Statuses in which the worker still has something to do, so a client should poll again. */
export const IN_PROGRESS_STATUSES: readonly OrganizationStatus[] = ['pending', 'provisioning', 'deleting'];

/** The provisioning steps, in order; `step` on the organization names the one running or last run. */
export const PROVISIONING_STEPS = ['create_database', 'migrate', 'seed_admin', 'activate'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];
