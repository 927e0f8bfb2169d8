import { type ProvisionJobData } from '@orgms/common/queues/registry';
import { runWithContext } from '@orgms/common/request-context';
import { type Job, UnrecoverableError } from 'bullmq';
import { ProvisioningError, type ProvisioningService } from '../services/provisioning.service';
import { organizationJobData } from './job-data';

/** BullMQ adapter: unpacks the job, runs the service in the job's log context, maps failures. */
export function createProvisionProcessor(service: ProvisioningService) {
  return async (job: Job<ProvisionJobData>) => {
    const { orgId, requestId } = organizationJobData(job);
    return runWithContext({ requestId, jobId: job.id, orgId }, async () => {
      try {
        const isLastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        // The job's progress names the organization and its step, for operators in Bull Board.
        const onStep = (step: string, org: { name: string }) => job.updateProgress({ organization: org.name, orgId, step });
        return await service.provision(orgId, { requestId, isLastAttempt, onStep });
      } catch (error) {
        // A permanent failure must not burn the remaining attempts.
        if (error instanceof ProvisioningError && error.permanent) throw new UnrecoverableError(error.message);
        throw error;
      }
    });
  };
}
