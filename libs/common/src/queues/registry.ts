/**
 * The one typed registry of queues, job names, job data and job ids (DESIGN §7). Only ids
 * travel on a queue: no names, hashes or credentials.
 */
export const QUEUES = {
  provisioning: 'provisioning',
  maintenance: 'maintenance',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  provision: 'provision',
  reconcile: 'reconcile',
} as const;

export interface ProvisionJobData {
  orgId: string;
  requestId: string;
}

export type ReconcileJobData = Record<string, never>;

/**
 * Deterministic ids make enqueueing idempotent: adding a job whose id exists is a no-op.
 * BullMQ rejects ':' in custom ids, hence `provision-<orgId>` rather than DESIGN's `provision:<orgId>`.
 */
export const jobIds = {
  provision: (orgId: string) => `provision-${orgId}`,
};

/** The id of the repeatable reconcile job scheduler. */
export const RECONCILE_SCHEDULER_ID = 'reconcile-every-interval';
