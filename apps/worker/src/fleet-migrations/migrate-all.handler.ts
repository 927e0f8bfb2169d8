import type { MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { JOBS, jobIds, type MigrateAllJobData } from '@orgms/common/queues/registry';
import { WaitingChildrenError } from 'bullmq';
import { migrateAllJobData } from '../processors/job-data';
import type { JobHandler } from '../processors/job-handlers';
import type { MigrationRunsService } from './migration-runs.service';

/**
 * `migrate-all`, the parent of a fleet migration run, runs in phases: plan (upgrade the template,
 * record the run's items, add one `migrate-tenants` child per batch of organizations) → wait for its
 * children → finish. The phase is stored on the job, so a crash resumes where it was. Children
 * ignore-on-failure, so the parent still finishes when some organizations fail.
 */
export function migrateAllHandler(service: MigrationRunsService, queue: MigrationsQueue): JobHandler<MigrateAllJobData> {
  return {
    data: migrateAllJobData,
    async run({ runId, requestId, phase: storedPhase }, job, token) {
      let phase = storedPhase ?? 'plan';
      if (phase === 'plan') {
        const batches = await service.planRun(runId);
        // Deterministic job ids, so a re-run of this phase (addBulk is all or nothing) adds no batch twice.
        await queue.addBulk(
          batches.map((orgIds) => ({
            name: JOBS.migrateTenants,
            data: { runId, orgIds, requestId },
            opts: {
              jobId: jobIds.migrateTenants(runId, orgIds[0]),
              parent: { id: job.id as string, queue: job.queueQualifiedName },
              ignoreDependencyOnFailure: true,
            },
          })),
        );
        phase = 'wait';
        await job.updateData({ ...job.data, phase });
      }
      if (phase === 'wait') {
        if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
        phase = 'finish';
        await job.updateData({ ...job.data, phase });
      }
      return service.finishRun(runId);
    },
  };
}
