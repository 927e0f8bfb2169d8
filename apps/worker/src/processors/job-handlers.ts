import type { MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { JOBS, type JobDataByName, type JobName } from '@orgms/common/queues/registry';
import type { Job } from 'bullmq';
import type { DeprovisioningService } from '../services/deprovisioning.service';
import type { DrainService } from '../services/drain.service';
import type { ExportService } from '../services/export.service';
import type { MigrationsService } from '../services/migrations.service';
import type { MoveService } from '../services/move.service';
import type { ProvisioningService } from '../services/provisioning.service';
import type { ReconcilerService } from '../services/reconciler.service';
import { drainServerJobData, exportJobData, migrateTenantJobData, moveJobData, organizationJobData } from './job-data';
import { migrateAllHandler } from './migrate-all.handler';

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
  deprovisioning: DeprovisioningService;
  migrations: MigrationsService;
  reconciler: ReconcilerService;
  moves: MoveService;
  drains: DrainService;
  exports: ExportService;
  /** Where `migrate-all` adds its children. */
  migrationsQueue: MigrationsQueue;
}

/** BullMQ counts attempts from 0: the attempt running now is the last one the job gets. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export function createJobHandlers({ provisioning, deprovisioning, migrations, reconciler, moves, drains, exports, migrationsQueue }: JobServices): JobHandlers {
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
    [JOBS.deprovision]: {
      data: organizationJobData,
      run: ({ orgId, requestId }) => deprovisioning.deprovision(orgId, { requestId }),
    },
    [JOBS.reconcile]: {
      // A repeatable job without data: there is nothing to check.
      data: () => ({}),
      run: () => reconciler.reconcile(),
    },
    [JOBS.migrateAll]: migrateAllHandler(migrations, migrationsQueue),
    [JOBS.migrateTenant]: {
      data: migrateTenantJobData,
      run: ({ runId, orgId }, job) => migrations.migrateTenant(runId, orgId, isLastAttempt(job)),
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
      run: ({ exportId, orgId, requestId }, job) => exports.export(orgId, exportId, { requestId, isLastAttempt: isLastAttempt(job) }),
    },
  };
}
