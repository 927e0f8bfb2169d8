import { JOBS, type OrganizationJobData, QUEUES } from '@orgms/common/queues/registry';
import type { Job } from 'bullmq';
import { unknownJobName } from './job-data';

type Processor = (job: Job<OrganizationJobData>) => Promise<unknown>;

const ORGANIZATION_JOBS = [JOBS.provision, JOBS.deprovision] as const;

/**
 * The provisioning queue carries two job names; each goes to its own thin processor. Any other
 * name (a job added by hand) fails at once instead of being run as a provisioning.
 */
export function routeOrganizationJobs(processors: { provision: Processor; deprovision: Processor }): Processor {
  return async (job) => {
    if (job.name === JOBS.provision) return processors.provision(job);
    if (job.name === JOBS.deprovision) return processors.deprovision(job);
    return unknownJobName(job, QUEUES.provisioning, ORGANIZATION_JOBS);
  };
}
