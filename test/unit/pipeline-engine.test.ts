import { JobFailure } from '@orgms/worker/job-failure';
import { pipelineFailures, pipelineStepDuration } from '@orgms/worker/metrics';
import type { Pipeline, PipelineFailure } from '@orgms/worker/pipelines/pipeline';
import { runPipeline } from '@orgms/worker/pipelines/pipeline-runner';
import { expect } from 'chai';

type Step = 'one' | 'two' | 'three';

/** A run of the test pipeline: what happened, in order, and the steps done durably (as a store would keep them). */
interface TestRun {
  trail: string[];
  done: Set<Step>;
  failAt?: { step: Step; error: unknown };
  canRollBack?: boolean;
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;

function testPipeline(name: string): Pipeline<TestRun, Step> & { failures: PipelineFailure<Step>[] } {
  const failures: PipelineFailure<Step>[] = [];
  const step = (s: Step, compensated: boolean) => ({
    run: async (run: TestRun) => {
      run.trail.push(`run ${s}`);
      if (run.failAt?.step === s) throw run.failAt.error;
      run.done.add(s);
    },
    ...(compensated && {
      compensate: async (run: TestRun) => {
        run.trail.push(`undo ${s}`);
      },
    }),
  });
  return {
    name,
    order: ['one', 'two', 'three'],
    steps: { one: step('one', true), two: step('two', false), three: step('three', true) },
    resumeAt: (run) => (['one', 'two', 'three'] as const).find((s) => !run.done.has(s)) ?? 'three',
    enter: async (run, s) => {
      run.trail.push(`enter ${s}`);
    },
    canRollBack: async (run) => run.canRollBack ?? true,
    recordFailure: async (_run, failure) => {
      failures.push(failure);
    },
    failures,
  };
}

function newRun(overrides: Partial<TestRun> = {}): TestRun {
  return { trail: [], done: new Set(), ...overrides };
}

async function failureOf(promise: Promise<unknown>): Promise<JobFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).to.be.instanceOf(JobFailure);
  return error as JobFailure;
}

const UNAVAILABLE = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('Pipeline runner (no servers)', () => {
  it('when a pipeline runs, then its steps are entered, told and run in the declared order', async () => {
    const run = newRun();
    const told: string[] = [];
    await runPipeline(testPipeline('unit_order'), run, {
      logger: silent,
      isLastAttempt: false,
      onStep: async (s) => told.push(`onStep ${s}`),
      beforeStep: (s) => {
        told.push(`beforeStep ${s}`);
      },
    });
    expect(run.trail).to.deep.equal(['enter one', 'run one', 'enter two', 'run two', 'enter three', 'run three']);
    expect(told).to.deep.equal(['onStep one', 'beforeStep one', 'onStep two', 'beforeStep two', 'onStep three', 'beforeStep three']);
  });

  it('when a run crashed between steps, then the next run resumes from the last durable step', async () => {
    const pipeline = testPipeline('unit_resume');
    const run = newRun();
    const crash = new Error('the worker died');
    await runPipeline(pipeline, run, {
      logger: silent,
      isLastAttempt: false,
      beforeStep: (s) => {
        if (s === 'two') throw crash;
      },
    }).catch(() => undefined);
    expect([...run.done]).to.deep.equal(['one']);
    run.trail = [];
    await runPipeline(pipeline, run, { logger: silent, isLastAttempt: false });
    expect(run.trail).to.deep.equal(['enter two', 'run two', 'enter three', 'run three']);
  });

  it('when a step fails permanently, then the failure is final, not retried, and the steps up to it are compensated in reverse', async () => {
    const pipeline = testPipeline('unit_permanent');
    const run = newRun({ failAt: { step: 'three', error: new JobFailure('the copy belongs to someone else', { permanent: true }) } });
    const failure = await failureOf(runPipeline(pipeline, run, { logger: silent, isLastAttempt: false }));
    expect(failure).to.include({ permanent: true, message: 'three: the copy belongs to someone else' });
    expect(run.trail.slice(-2)).to.deep.equal(['undo three', 'undo one']);
    expect(pipeline.failures).to.have.length(1);
    expect(pipeline.failures[0]).to.include({ step: 'three', final: true, rolledBack: true });
  });

  it('when a resumed run fails permanently, then the steps an earlier attempt did are compensated too', async () => {
    const run = newRun({ done: new Set(['one', 'two']), failAt: { step: 'three', error: new JobFailure('no', { permanent: true }) } });
    await failureOf(runPipeline(testPipeline('unit_resumed_rollback'), run, { logger: silent, isLastAttempt: false }));
    expect(run.trail).to.deep.equal(['enter three', 'run three', 'undo three', 'undo one']);
  });

  it('when a run can no longer be rolled back, then a final failure compensates nothing and says so', async () => {
    const pipeline = testPipeline('unit_no_rollback');
    const run = newRun({ canRollBack: false, failAt: { step: 'two', error: new JobFailure('no', { permanent: true }) } });
    await failureOf(runPipeline(pipeline, run, { logger: silent, isLastAttempt: true }));
    expect(run.trail.filter((t) => t.startsWith('undo'))).to.deep.equal([]);
    expect(pipeline.failures[0]).to.include({ step: 'two', final: true, rolledBack: false });
  });

  it('when a step fails transiently before the last attempt, then it is rethrown for a retry, recorded as such, and nothing is compensated', async () => {
    const pipeline = testPipeline('unit_transient');
    const run = newRun({ failAt: { step: 'two', error: UNAVAILABLE } });
    const failure = await failureOf(runPipeline(pipeline, run, { logger: silent, isLastAttempt: false }));
    expect(failure).to.include({ permanent: false, message: 'two: PostgreSQL was unavailable (SQLSTATE 57P01)' });
    expect(failure.cause).to.equal(UNAVAILABLE);
    expect(run.trail.filter((t) => t.startsWith('undo'))).to.deep.equal([]);
    expect(pipeline.failures[0]).to.include({ step: 'two', final: false, rolledBack: false });
  });

  it('when a step fails transiently on the last attempt, then the failure is final and rolled back', async () => {
    const pipeline = testPipeline('unit_last_attempt');
    const run = newRun({ failAt: { step: 'two', error: UNAVAILABLE } });
    const failure = await failureOf(runPipeline(pipeline, run, { logger: silent, isLastAttempt: true }));
    expect(failure.permanent).to.equal(false);
    expect(run.trail.slice(-1)).to.deep.equal(['undo one']);
    expect(pipeline.failures[0]).to.include({ step: 'two', final: true, rolledBack: true });
  });

  it('when recording a failure fails, then the step failure is still what is thrown', async () => {
    const pipeline = { ...testPipeline('unit_record_fails'), recordFailure: () => Promise.reject(new Error('control database down')) };
    const run = newRun({ failAt: { step: 'one', error: UNAVAILABLE } });
    const failure = await failureOf(runPipeline(pipeline, run, { logger: silent, isLastAttempt: false }));
    expect(failure.message).to.equal('one: PostgreSQL was unavailable (SQLSTATE 57P01)');
  });

  it('when steps run, then each is observed in the step metric with its pipeline, step and outcome', async () => {
    const run = newRun({ failAt: { step: 'two', error: UNAVAILABLE } });
    await runPipeline(testPipeline('unit_metric'), run, { logger: silent, isLastAttempt: false }).catch(() => undefined);
    const counts = (await pipelineStepDuration.get()).values
      .filter((v) => v.metricName === 'orgms_pipeline_step_duration_seconds_count' && v.labels.pipeline === 'unit_metric')
      .map((v) => ({ ...v.labels, count: v.value }));
    expect(counts).to.have.deep.members([
      { pipeline: 'unit_metric', step: 'one', outcome: 'ok', count: 1 },
      { pipeline: 'unit_metric', step: 'two', outcome: 'error', count: 1 },
    ]);
  });

  it('when a run is given up for good, then orgms_pipeline_failures_total counts it once; a failure that will be retried is not counted', async () => {
    const failuresOf = async (pipeline: string) => (await pipelineFailures.get()).values.find((v) => v.labels.pipeline === pipeline)?.value;
    const pipeline = testPipeline('unit_failures');
    await runPipeline(pipeline, newRun({ failAt: { step: 'two', error: UNAVAILABLE } }), { logger: silent, isLastAttempt: false }).catch(() => undefined);
    expect(await failuresOf('unit_failures')).to.equal(undefined);
    await runPipeline(pipeline, newRun({ failAt: { step: 'two', error: UNAVAILABLE } }), { logger: silent, isLastAttempt: true }).catch(() => undefined);
    const permanent = new JobFailure('refused', { permanent: true });
    await runPipeline(pipeline, newRun({ failAt: { step: 'one', error: permanent } }), { logger: silent, isLastAttempt: false }).catch(() => undefined);
    expect(await failuresOf('unit_failures')).to.equal(2);
  });
});
