import type { Logger } from '@orgms/common/logger';
import { withSpan } from '@orgms/common/tracing/tracing';
import { type JobFailure, jobFailureOf } from '../job-failure';
import { pipelineFailures, pipelineStepDuration } from '../metrics';
import type { Pipeline } from './pipeline';

export interface PipelineRunOptions<S extends string> {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** When true a failure is final: the run is rolled back (where declared) instead of waiting for a retry. */
  isLastAttempt: boolean;
  /** Told when a step starts, e.g. to show it on the job in Bull Board. */
  onStep?: (step: S) => Promise<unknown>;
  /** Called before each step's work; tests use it to slow or interrupt a run at a chosen point. */
  beforeStep?: (step: S) => Promise<void> | void;
}

/**
 * Executes any pipeline: from the step it resumes at, each step is entered (recorded), timed
 * into `orgms_pipeline_step_duration_seconds{pipeline,step,outcome}` and run, inside a span
 * `<pipeline> <step>` when tracing is on (its database calls are that span's children). A
 * failure is classified once (job-failure.ts): it is final when permanent or on the last attempt;
 * a final one is counted (`orgms_pipeline_failures_total`), rolls back, then it is recorded, and
 * it is thrown either way (a transient one for BullMQ to retry, a permanent one to give up at once).
 */
export async function runPipeline<R, S extends string>(pipeline: Pipeline<R, S>, run: R, options: PipelineRunOptions<S>): Promise<void> {
  let current = pipeline.order[0];
  try {
    const from = pipeline.order.indexOf(pipeline.resumeAt ? await pipeline.resumeAt(run) : current);
    for (const step of pipeline.order.slice(from)) {
      current = step;
      await withSpan(`${pipeline.name} ${step}`, { 'orgms.pipeline': pipeline.name, 'orgms.step': step }, () => runStep(pipeline, run, step, options));
    }
  } catch (cause) {
    throw await recordFailure(pipeline, run, current, cause, options);
  }
}

async function runStep<R, S extends string>(pipeline: Pipeline<R, S>, run: R, step: S, options: PipelineRunOptions<S>): Promise<void> {
  await pipeline.enter?.(run, step);
  await options.onStep?.(step);
  await options.beforeStep?.(step);
  const stopTimer = pipelineStepDuration.startTimer({ pipeline: pipeline.name, step });
  const started = Date.now();
  try {
    const result = await pipeline.steps[step].run(run);
    stopTimer({ outcome: 'ok' });
    options.logger.info(`${pipeline.name} step done`, { step, result, ms: Date.now() - started });
  } catch (error) {
    stopTimer({ outcome: 'error' });
    throw error;
  }
}

async function recordFailure<R, S extends string>(
  pipeline: Pipeline<R, S>,
  run: R,
  step: S,
  cause: unknown,
  options: PipelineRunOptions<S>,
): Promise<JobFailure> {
  const failure = jobFailureOf(step, cause);
  const final = failure.permanent || options.isLastAttempt;
  options.logger.error(`${pipeline.name} step failed`, { step, permanent: failure.permanent, final, error: cause });
  if (final) pipelineFailures.inc({ pipeline: pipeline.name });
  try {
    const rolledBack = final && (await rollBack(pipeline, run, step));
    await pipeline.recordFailure?.(run, { step, failure, final, rolledBack });
  } catch (recordError) {
    // The control database may be what failed; the retry (or the reconciler) records it later.
    options.logger.warn(`could not record the ${pipeline.name} failure`, { error: (recordError as Error).message });
  }
  return failure;
}

/**
 * Undoes, in reverse, every step up to the failed one: that one too, since it may be half done,
 * and those before it even when an earlier attempt did them (the run resumed after them).
 */
async function rollBack<R, S extends string>(pipeline: Pipeline<R, S>, run: R, failed: S): Promise<boolean> {
  if (pipeline.canRollBack && !(await pipeline.canRollBack(run))) return false;
  const undone = pipeline.order.slice(0, pipeline.order.indexOf(failed) + 1).reverse();
  for (const step of undone) await pipeline.steps[step].compensate?.(run);
  return true;
}
