import type { JobFailure } from '../job-failure';

/** One step of a pipeline: its work and, where it can be undone, how. Both must be idempotent. */
export interface PipelineStep<R> {
  /** Does the step's work on the run; its result goes to the log. */
  run(run: R): Promise<unknown>;
  /**
   * Undoes the step when the run is given up. It may find the step half done, or done by an
   * earlier attempt (the run resumed after it), or not done at all, and must converge anyway.
   */
  compensate?(run: R): Promise<unknown>;
}

/** A failed step as the runner classified it: `final` when no attempt follows. */
export interface PipelineFailure<S extends string> {
  step: S;
  failure: JobFailure;
  final: boolean;
  /** Whether the compensations ran (a final failure of a pipeline that can still be rolled back). */
  rolledBack: boolean;
}

/**
 * Long work declared as data; pipeline-runner.ts executes any of them. `R` is one run's state
 * (the organization, connections, what earlier steps found), `S` the step names.
 */
export interface Pipeline<R, S extends string> {
  /** The `pipeline` label of the step metric, and the start of the runner's log lines. */
  name: string;
  /** The steps in the order they run: one list, usually the step names of organization-status.ts. */
  order: readonly S[];
  steps: { readonly [K in S]: PipelineStep<R> };
  /**
   * The first step still to do, for a run that resumes after a crash from its last durable step
   * (default: the first; steps that converge simply run again). A failure here counts as the
   * first step's.
   */
  resumeAt?(run: R): Promise<S> | S;
  /** Records that the run enters `step` (the organization's `step` and its event). */
  enter?(run: R, step: S): Promise<unknown>;
  /**
   * Whether a run given up can still be undone; the compensations run only then (a move that
   * has switched to its target is never rolled back). Default: yes.
   */
  canRollBack?(run: R): Promise<boolean>;
  /** Records a failure: one the next attempt retries, or a final one (after the rollback, if any). */
  recordFailure?(run: R, failure: PipelineFailure<S>): Promise<unknown>;
}
