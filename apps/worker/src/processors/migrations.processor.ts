import { type MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { JOBS, jobIds, type MigrateAllJobData, type MigrateTenantJobData, QUEUES } from '@orgms/common/queues/registry';
import { runWithContext } from '@orgms/common/request-context';
import { type Job, UnrecoverableError, WaitingChildrenError } from 'bullmq';
import type { MigrationsService } from '../services/migrations.service';
import { ProvisioningError } from '../services/provisioning.service';
import { migrateAllJobData, migrateTenantJobData, unknownJobName } from './job-data';

type MigrationJob = Job<MigrateAllJobData> | Job<MigrateTenantJobData>;

/**
 * The migrations queue: `migrate-all` is a BullMQ parent that runs in phases (plan → wait for
 * its children → finish; the phase is stored on the job, so a crash resumes where it was) and
 * `migrate-tenant` is one child per organization. Children ignore-on-failure, so the parent
 * still finishes when some organizations fail. Data and names are checked first (job-data.ts).
 */
export function createMigrationsProcessor(service: MigrationsService, queue: MigrationsQueue) {
  return async (job: MigrationJob, token?: string) => {
    if (job.name === JOBS.migrateTenant) {
      const { runId, orgId, requestId } = migrateTenantJobData(job);
      return runWithContext({ requestId, jobId: job.id, orgId }, async () => {
        try {
          return await service.migrateTenant(runId, orgId, job.attemptsMade + 1 >= (job.opts.attempts ?? 1));
        } catch (error) {
          if (error instanceof ProvisioningError && error.permanent) throw new UnrecoverableError(error.message);
          throw error;
        }
      });
    }
    if (job.name !== JOBS.migrateAll) return unknownJobName(job, QUEUES.migrations, [JOBS.migrateAll, JOBS.migrateTenant]);
    const parent = job as Job<MigrateAllJobData>;
    const { runId, requestId, phase: storedPhase } = migrateAllJobData(parent);
    return runWithContext({ requestId, jobId: job.id }, async () => {
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
        await parent.updateData({ ...parent.data, phase });
      }
      if (phase === 'wait') {
        if (token && (await parent.moveToWaitingChildren(token))) throw new WaitingChildrenError();
        phase = 'finish';
        await parent.updateData({ ...parent.data, phase });
      }
      return service.finishRun(runId);
    });
  };
}
