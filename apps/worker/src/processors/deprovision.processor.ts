import { type DeprovisionJobData } from '@orgms/common/queues/registry';
import { runWithContext } from '@orgms/common/request-context';
import { type Job, UnrecoverableError } from 'bullmq';
import type { DeprovisioningService } from '../services/deprovisioning.service';
import { ProvisioningError } from '../services/provisioning.service';
import { organizationJobData } from './job-data';

export function createDeprovisionProcessor(service: DeprovisioningService) {
  return async (job: Job<DeprovisionJobData>) => {
    const { orgId, requestId } = organizationJobData(job);
    return runWithContext({ requestId, jobId: job.id, orgId }, async () => {
      try {
        return await service.deprovision(orgId, { requestId });
      } catch (error) {
        if (error instanceof ProvisioningError && error.permanent) throw new UnrecoverableError(error.message);
        throw error;
      }
    });
  };
}
