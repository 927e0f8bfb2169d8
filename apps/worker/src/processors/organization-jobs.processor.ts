import { JOBS, type OrganizationJobData } from '@orgms/common';
import type { Job } from 'bullmq';

type Processor = (job: Job<OrganizationJobData>) => Promise<unknown>;

/** The provisioning queue carries two job names; each goes to its own thin processor. */
export function routeOrganizationJobs(processors: { provision: Processor; deprovision: Processor }): Processor {
  return (job) => {
    if (job.name === JOBS.deprovision) return processors.deprovision(job);
    return processors.provision(job);
  };
}
