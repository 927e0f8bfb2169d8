import { ServiceUnavailableError } from '@orgms/common/errors';
import type { TrackedRun, TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import { type MigrationsQueue, startDatabaseLimitsRun } from '@orgms/common/queues/migrations-queue';

/** Runs setting every active organization's database limits on its role (also `npm run limits:apply`), and following them. */
export class DatabaseLimitRunsService {
  constructor(private readonly deps: { runs: TrackedRunStore; queue: MigrationsQueue; logger: Logger }) {}

  /** The worker does the run; without a job queue no run is started (503), none is left waiting. */
  async start(requestId: string): Promise<TrackedRun<'database_limits'>> {
    let runId: string;
    try {
      runId = await startDatabaseLimitsRun(this.deps.runs, this.deps.queue, requestId);
    } catch (error) {
      this.deps.logger.warn('could not start a database limits run', { error: (error as Error).message });
      throw new ServiceUnavailableError('The job queue is unavailable; no run was started. Try again shortly.');
    }
    return this.deps.runs.get('database_limits', runId);
  }

  get(id: string): Promise<TrackedRun<'database_limits'>> {
    return this.deps.runs.get('database_limits', id);
  }
}
