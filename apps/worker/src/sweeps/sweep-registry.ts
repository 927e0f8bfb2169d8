import type { Logger } from '@orgms/common/logger';
import { JOBS, SWEEPS, type SweepName, sweepSchedulerId } from '@orgms/common/queues/registry';
import type { Queue } from 'bullmq';
import { sweepDuration } from '../metrics';

/** What one pass of a sweep did, by what it counts: the things it acted on, or how many. */
export type SweepSummary = Record<string, readonly unknown[] | number>;

/** A periodic sweep: how often it runs, and one pass of it (which must be safe to run again at any time). */
export interface Sweep<S extends SweepSummary = SweepSummary> {
  intervalMs: number;
  run: () => Promise<S>;
}

/** A declaration for every sweep of the queue registry: a registered sweep without one does not compile. */
export type SweepDeclarations = { [N in SweepName]: Sweep };

/**
 * The scheduler of the single `reconcile` job that did every sweep's work before there were
 * sweeps. A Redis that outlives the upgrade (persisted, or one kept across a deploy) still holds
 * it: it would add a `reconcile` job every interval, which the maintenance queue now refuses as
 * unknown, so every interval would leave one more failed job behind.
 */
export const LEGACY_RECONCILE_SCHEDULER_ID = 'reconcile-every-interval';

const SWEEP_NAMES = Object.values(SWEEPS);

/** The summary as numbers for a log line: a list counts its entries. */
function countsOf(summary: SweepSummary): Record<string, number> {
  return Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, typeof value === 'number' ? value : value.length]));
}

/**
 * Runs and schedules the sweeps. Each sweep is a job scheduler of its own on the maintenance
 * queue, so each keeps its own interval and a sweep that fails (or hangs until its job stalls)
 * never keeps the others from running.
 */
export class SweepRegistry {
  constructor(
    private readonly sweeps: SweepDeclarations,
    private readonly logger: Logger,
  ) {}

  /**
   * One pass of `name`, timed into `orgms_sweep_duration_seconds{sweep,outcome}` and logged with
   * its counts. A failure is logged and thrown, so the pass's job fails; the next interval runs it again.
   */
  async run(name: SweepName): Promise<SweepSummary> {
    const stopTimer = sweepDuration.startTimer({ sweep: name });
    try {
      const summary = await this.sweeps[name].run();
      const durationMs = Math.round(stopTimer({ outcome: 'ok' }) * 1000);
      const counts = countsOf(summary);
      // Most passes find nothing to do; one info line per sweep and interval would drown the log.
      const level = Object.values(counts).some((count) => count > 0) ? 'info' : 'debug';
      this.logger.log(level, 'sweep finished', { sweep: name, durationMs, ...counts });
      return summary;
    } catch (error) {
      const durationMs = Math.round(stopTimer({ outcome: 'failed' }) * 1000);
      this.logger.warn('sweep failed', { sweep: name, durationMs, error: (error as Error).message });
      throw error;
    }
  }

  /**
   * Registers each sweep's job scheduler under its deterministic id (upsert: registering again,
   * on every start and reconnect, changes nothing but an interval that was changed), and removes
   * the legacy `reconcile` scheduler.
   */
  async schedule(queue: Queue): Promise<void> {
    await queue.removeJobScheduler(LEGACY_RECONCILE_SCHEDULER_ID);
    await Promise.all(
      SWEEP_NAMES.map((sweep) =>
        queue.upsertJobScheduler(sweepSchedulerId(sweep), { every: this.sweeps[sweep].intervalMs }, { name: JOBS.sweep, data: { sweep } }),
      ),
    );
  }

  /** Whether Redis still holds every sweep's scheduler (a FLUSHALL loses them without a reconnect). */
  async allScheduled(queue: Queue): Promise<boolean> {
    const schedulers = await Promise.all(SWEEP_NAMES.map((sweep) => queue.getJobScheduler(sweepSchedulerId(sweep))));
    return schedulers.every(Boolean);
  }
}
