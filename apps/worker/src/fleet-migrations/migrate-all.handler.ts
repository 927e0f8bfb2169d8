import type { MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { JOBS, jobIds, type MigrateAllJobData } from '@orgms/common/queues/registry';
import { WaitingChildrenError } from 'bullmq';
import { migrateAllJobData } from '../processors/job-data';
import type { JobHandler } from '../processors/job-handlers';
import type { MigrationRunsService } from './migration-runs.service';

/**
 * `migrate-all`, the parent of a fleet migration run, runs in phases: plan (upgrade the template,
 * record the run's items, add one `migrate-tenant` child per organization) → wait for its
 * children → finish. The phase is stored on the job, so a crash resumes where it was. Children
 * ignore-on-failure, so the parent still finishes when some organizations fail.
 */
export function migrateAllHandler(service: MigrationRunsService, queue: MigrationsQueue): JobHandler<MigrateAllJobData> {
  return {
    data: migrateAllJobData,
    async run({ runId, requestId, phase: storedPhase }, job, token) {
      let phase = storedPhase ?? 'plan';
      if (phase === 'plan') {
        const orgIds = await service.planRun(runId);
        // Same job ids on a re-run of this phase, so children are never added twice.
        await queue.addBulk(
          orgIds.map((orgId) => ({
            name: JOBS.migrateTenant,
            data: { runId, orgId, requestId },
            opts: {
              jobId: jobIds.migrateTenant(runId, orgId),
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
