import { isCanonicalUuid } from '@orgms/common/ids';
import {
  type ApplyDatabaseLimitsJobData,
  type ApplyFleetDatabaseLimitsJobData,
  type BackupJobData,
  type DeliverWebhooksJobData,
  type DrainServerJobData,
  type ExportJobData,
  type MigrateAllJobData,
  type MigrateTenantsJobData,
  type MoveJobData,
  type OrganizationJobData,
  SWEEPS,
  type SweepJobData,
  type SweepName,
} from '@orgms/common/queues/registry';
import { type Job, UnrecoverableError } from 'bullmq';

/**
 * The data of a job is checked before anything touches a database. Jobs may come from outside our
 * own code (Bull Board's "Add job", a script on the Redis), and data that is not one of our ids
 * would otherwise fail at the database on every attempt, or reach SQL and logs as it is. Such a job
 * fails at once (UnrecoverableError: no retries) with a message saying what is wrong.
 *
 * Only the fields below are read and passed on; other keys are ignored rather than refused, so a
 * field added by a newer API does not fail every job of an older worker during a rolling update.
 */
const MAX_REQUEST_ID_LENGTH = 200;

type Data = Record<string, unknown>;

function reject(job: Job, problem: string): never {
  throw new UnrecoverableError(`job ${job.name} (${job.id}) has invalid data: ${problem}; it is not retried`);
}

function objectData(job: Job): Data {
  const data: unknown = job.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) reject(job, 'the data is not an object');
  return data as Data;
}

function canonicalId(job: Job, data: Data, field: string): string {
  const value = data[field];
  if (!isCanonicalUuid(value)) reject(job, `${field} must be a lower-case uuid (8-4-4-4-12), got ${JSON.stringify(value) ?? 'nothing'}`);
  return value;
}

function requestIdOf(job: Job, data: Data): string {
  const value = data.requestId;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_REQUEST_ID_LENGTH) {
    reject(job, `requestId must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
  }
  return value;
}

/** `provision` and `purge`: `{ orgId, requestId }`. */
export function organizationJobData(job: Job): OrganizationJobData {
  const data = objectData(job);
  return { orgId: canonicalId(job, data, 'orgId'), requestId: requestIdOf(job, data) };
}

/** `move`: `{ orgId, requestId, fromServerId }`. */
export function moveJobData(job: Job): MoveJobData {
  const data = objectData(job);
  return { orgId: canonicalId(job, data, 'orgId'), requestId: requestIdOf(job, data), fromServerId: canonicalId(job, data, 'fromServerId') };
}

/** `drain-server`: `{ drainId, requestId }`. */
export function drainServerJobData(job: Job): DrainServerJobData {
  const data = objectData(job);
  return { drainId: canonicalId(job, data, 'drainId'), requestId: requestIdOf(job, data) };
}

/** `export`: `{ exportId, orgId, requestId }`. */
export function exportJobData(job: Job): ExportJobData {
  const data = objectData(job);
  return { exportId: canonicalId(job, data, 'exportId'), orgId: canonicalId(job, data, 'orgId'), requestId: requestIdOf(job, data) };
}

/** `backup`: `{ backupId, orgId, requestId }`. */
export function backupJobData(job: Job): BackupJobData {
  const data = objectData(job);
  return { backupId: canonicalId(job, data, 'backupId'), orgId: canonicalId(job, data, 'orgId'), requestId: requestIdOf(job, data) };
}

/** `deliver-webhooks`: `{ endpointId, orgId }` (deliveries carry the request ids of their events). */
export function deliverWebhooksJobData(job: Job): DeliverWebhooksJobData {
  const data = objectData(job);
  return { endpointId: canonicalId(job, data, 'endpointId'), orgId: canonicalId(job, data, 'orgId') };
}

/** The most organizations one `migrate-tenants` job may name (MIGRATION_BATCH_SIZE's maximum). */
const MAX_BATCH = 1000;

/** `migrate-tenants`: `{ runId, orgIds, requestId }`, orgIds a non-empty list of distinct ids. */
export function migrateTenantsJobData(job: Job): MigrateTenantsJobData {
  const data = objectData(job);
  const orgIds = data.orgIds;
  if (!Array.isArray(orgIds) || orgIds.length === 0 || orgIds.length > MAX_BATCH) {
    reject(job, `orgIds must be a list of 1 to ${MAX_BATCH} organization ids`);
  }
  if (!orgIds.every(isCanonicalUuid)) reject(job, 'orgIds must be lower-case uuids (8-4-4-4-12)');
  return { runId: canonicalId(job, data, 'runId'), orgIds: [...new Set(orgIds as string[])], requestId: requestIdOf(job, data) };
}

/** `apply-database-limits`: `{ orgId, requestId }`. */
export function applyDatabaseLimitsJobData(job: Job): ApplyDatabaseLimitsJobData {
  const data = objectData(job);
  return { orgId: canonicalId(job, data, 'orgId'), requestId: requestIdOf(job, data) };
}

/** `apply-fleet-database-limits`: `{ runId, requestId }`. */
export function applyFleetDatabaseLimitsJobData(job: Job): ApplyFleetDatabaseLimitsJobData {
  const data = objectData(job);
  return { runId: canonicalId(job, data, 'runId'), requestId: requestIdOf(job, data) };
}

const PHASES = new Set(['plan', 'wait', 'finish']);

/** `migrate-all`: `{ runId, requestId, phase? }`. */
export function migrateAllJobData(job: Job): MigrateAllJobData {
  const data = objectData(job);
  const phase = data.phase;
  if (phase !== undefined && !(typeof phase === 'string' && PHASES.has(phase))) reject(job, 'phase must be plan, wait or finish');
  return { runId: canonicalId(job, data, 'runId'), requestId: requestIdOf(job, data), phase: phase as MigrateAllJobData['phase'] };
}

const SWEEP_NAMES = new Set<string>(Object.values(SWEEPS));

/** `sweep`: `{ sweep }`, one of the registry's sweeps. */
export function sweepJobData(job: Job): SweepJobData {
  const { sweep } = objectData(job);
  if (typeof sweep !== 'string' || !SWEEP_NAMES.has(sweep)) reject(job, `sweep must be one of ${[...SWEEP_NAMES].join(', ')}`);
  return { sweep: sweep as SweepName };
}

/** A job name this queue does not know: refused, never run as some default job. */
export function unknownJobName(job: Job, queue: string, known: readonly string[]): never {
  throw new UnrecoverableError(`job ${JSON.stringify(job.name)} (${job.id}) is not a job of the ${queue} queue (${known.join(', ')}); it is not retried`);
}
