import { JobFailure } from '@orgms/worker/job-failure';
import type { WorkerOptions } from '@orgms/worker/worker-runtime';
import type { TestStack } from './stack';

/**
 * Worker options under which each organization whose name starts with "Flaky" fails once,
 * permanently, at the migrate step (its database half made), and provisions normally on retry.
 * `stack` is read when a step runs, so the options can be given to the stack being started.
 */
export function flakyOrganizationsFailOnce(stack: () => TestStack): WorkerOptions {
  const failedOnce = new Set<string>();
  return {
    beforeStep: async (step, orgId) => {
      if (step !== 'migrate' || failedOnce.has(orgId)) return;
      if (!(await stack().api.stores.organizations.get(orgId)).name.startsWith('Flaky')) return;
      failedOnce.add(orgId);
      throw new JobFailure('injected failure for the test', { permanent: true });
    },
  };
}
