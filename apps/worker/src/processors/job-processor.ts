import { randomUUID } from 'node:crypto';
import { type JobName, jobsOn, MOVED_JOBS, type QueueName } from '@orgms/common/queues/registry';
import { runWithContext } from '@orgms/common/request-context';
import { type Job, UnrecoverableError } from 'bullmq';
import { JobFailure } from '../job-failure';
import { unknownJobName } from './job-data';
import type { JobHandler, JobHandlers } from './job-handlers';

type Processor = (job: Job, token?: string) => Promise<unknown>;

/** The ids a job's data may carry, which every log line of the job then carries too. */
interface LoggedIds {
  requestId?: string;
  orgId?: string;
}

/**
 * What every job shares around its handler: the data is checked before anything else; the work
 * runs in the job's log context (the request id that travelled on the job, or a fresh one for
 * jobs nobody requested, the job id, the organization); and a permanent JobFailure becomes
 * BullMQ's UnrecoverableError, so it does not spend the remaining attempts.
 */
function processJob<D extends object>(handler: JobHandler<D>): Processor {
  return async (job, token) => {
    const data = handler.data(job);
    // Data without any of the ids (a sweep's) shares no key with LoggedIds, which the compiler would refuse as a constraint.
    const { requestId, orgId } = data as LoggedIds;
    const context = { requestId: requestId ?? `${job.name}-${randomUUID()}`, jobId: job.id, ...(orgId && { orgId }) };
    return runWithContext(context, async () => {
      try {
        return await handler.run(data, job, token);
      } catch (error) {
        if (error instanceof JobFailure && error.permanent) throw new UnrecoverableError(error.message);
        throw error;
      }
    });
  };
}

/** Generic in the name, so the compiler pairs each job's handler with that job's own data type. */
function processorOf<N extends JobName>(handlers: JobHandlers, name: N): Processor {
  return processJob(handlers[name]);
}

/**
 * The processor of one queue: each job goes to the handler of its name. A name the queue does not
 * carry (a job added by hand) fails at once instead of being run as some other job. A job that
 * travelled on this queue in an earlier version (MOVED_JOBS) is checked and given to `forward`,
 * which adds it to its queue of today; without `forward` it is refused like any unknown name.
 */
export function queueProcessor(queue: QueueName, handlers: JobHandlers, forward?: (job: Job) => Promise<unknown>): Processor {
  const names = jobsOn(queue);
  const processors = new Map<string, Processor>(names.map((name) => [name, processorOf(handlers, name)]));
  const moved = new Set<string>(forward ? (MOVED_JOBS[queue] ?? []) : []);
  return async (job, token) => {
    const processor = processors.get(job.name);
    if (processor) return processor(job, token);
    if (!forward || !moved.has(job.name)) return unknownJobName(job, queue, names);
    handlers[job.name as JobName].data(job);
    await forward(job);
    return { forwarded: true };
  };
}
