import type { MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { JOBS, type JobDataByName, type JobName } from '@orgms/common/queues/registry';
import { DelayedError, type Job } from 'bullmq';
import type { BackupRestoresService } from '../data-safety/backup-restores.service';
import type { OrganizationDumpsService } from '../data-safety/organization-dumps.service';
import type { DrainService } from '../fleet/drain.service';
import type { MovesService } from '../fleet/moves.service';
import { migrateAllHandler } from '../fleet-migrations/migrate-all.handler';
import type { MigrationRunsService } from '../fleet-migrations/migration-runs.service';
import type { DatabaseLimitsService } from '../limits/database-limits.service';
import type { ProvisioningService } from '../organizations/provisioning.service';
import type { PurgeService } from '../organizations/purge.service';
import type { SweepRegistry } from '../sweeps/sweep-registry';
import type { WebhookDeliveryService } from '../webhooks/webhook-delivery.service';
import {
  applyDatabaseLimitsJobData,
  applyFleetDatabaseLimitsJobData,
  backupJobData,
  deliverWebhooksJobData,
  drainServerJobData,
  exportJobData,
  migrateTenantsJobData,
  moveJobData,
  organizationJobData,
  sweepJobData,
} from './job-data';

/**
 * What one job does, as a thin adapter over a service: read and check its data, then run. The
 * part every job shares (log context, permanent failures) is job-processor.ts's.
 */
export interface JobHandler<D> {
  /** The job's data, checked (job-data.ts): data that is not what the job expects fails at once. */
  data: (job: Job) => D;
  run: (data: D, job: Job, token?: string) => Promise<unknown>;
}

/** One handler for every job name of the registry: a registered job without one does not compile. */
export type JobHandlers = { [N in JobName]: JobHandler<JobDataByName[N]> };

export interface JobServices {
  provisioning: ProvisioningService;
  purges: PurgeService;
  migrations: MigrationRunsService;
  sweeps: Pick<SweepRegistry, 'run'>;
  moves: MovesService;
  drains: DrainService;
  dumps: OrganizationDumpsService;
  restores: BackupRestoresService;
  webhooks: WebhookDeliveryService;
  databaseLimits: DatabaseLimitsService;
  /** Where `migrate-all` adds its children. */
  migrationsQueue: MigrationsQueue;
}

/** BullMQ counts attempts from 0: the attempt running now is the last one the job gets. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function createJobHandlers({
  provisioning,
  purges,
  migrations,
  sweeps,
  moves,
  drains,
  dumps,
  restores,
  webhooks,
  databaseLimits,
  migrationsQueue,
}: JobServices): JobHandlers {
  return {
    [JOBS.provision]: {
      data: organizationJobData,
      run: ({ orgId, requestId }, job) =>
        provisioning.provision(orgId, {
          requestId,
          isLastAttempt: isLastAttempt(job),
          // The job's progress names the organization and its step, for operators in Bull Board.
          onStep: (step, org) => job.updateProgress({ organization: org.name, orgId, step }),
        }),
    },
    [JOBS.purge]: {
      data: organizationJobData,
      run: ({ orgId, requestId }) => purges.purge(orgId, { requestId }),
    },
    [JOBS.sweep]: {
      data: sweepJobData,
      run: ({ sweep }) => sweeps.run(sweep),
    },
    [JOBS.migrateAll]: migrateAllHandler(migrations, migrationsQueue),
    [JOBS.migrateTenants]: {
      data: migrateTenantsJobData,
      run: ({ runId, orgIds }, job) => migrations.migrateBatch(runId, orgIds, isLastAttempt(job)),
    },
    [JOBS.move]: {
      data: moveJobData,
      run: ({ orgId, requestId, fromServerId }, job) => moves.move(orgId, { requestId, fromServerId, isLastAttempt: isLastAttempt(job) }),
    },
    [JOBS.drainServer]: {
      data: drainServerJobData,
      run: ({ drainId, requestId }) => drains.drain(drainId, requestId),
    },
    [JOBS.export]: {
      data: exportJobData,
      run: ({ exportId, orgId, requestId }, job) => dumps.dump('export', orgId, exportId, { requestId, isLastAttempt: isLastAttempt(job) }),
    },
    [JOBS.backup]: {
      data: backupJobData,
      run: ({ backupId, orgId, requestId }, job) => dumps.dump('backup', orgId, backupId, { requestId, isLastAttempt: isLastAttempt(job) }),
    },
    [JOBS.restore]: {
      data: organizationJobData,
      run: ({ orgId, requestId }, job) => restores.restore(orgId, { requestId, isLastAttempt: isLastAttempt(job) }),
    },
    [JOBS.deliverWebhooks]: {
      data: deliverWebhooksJobData,
      run: async ({ endpointId, orgId }, job, token) => {
        const waitUntil = await webhooks.deliverLane(endpointId, orgId);
        if (!waitUntil) return;
        // The lane's next delivery is due later (a retry): the same job waits, delayed, so the lane keeps one job.
        await job.moveToDelayed(waitUntil.getTime(), token);
        throw new DelayedError();
      },
    },
    [JOBS.sweepWebhooks]: {
      // A repeatable job without data: there is nothing to check.
      data: () => ({}),
      run: () => webhooks.sweep(),
    },
    [JOBS.applyDatabaseLimits]: {
      data: applyDatabaseLimitsJobData,
      run: ({ orgId }) => databaseLimits.applyTo(orgId),
    },
    [JOBS.applyFleetDatabaseLimits]: {
      data: applyFleetDatabaseLimitsJobData,
      run: ({ runId }) => databaseLimits.applyToFleet(runId),
    },
  };
}
