import { ServiceUnavailableError } from '@orgms/common/errors';
import type { TrackedRun, TrackedRunStore, TrackedRunSummary } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import { type MigrationsQueue, startMigrationRun } from '@orgms/common/queues/migrations-queue';
import { type Page, pageQuery, withCursor } from '../http/pagination';

/** Fleet migrations: start a run of every organization database to the latest tenant migration, and follow it. */
export class MigrationRunsService {
  constructor(private readonly deps: { runs: TrackedRunStore; queue: MigrationsQueue; logger: Logger }) {}

  /** The worker does the run; without a job queue no run is started (503), none is left waiting. */
  async start(requestId: string): Promise<TrackedRun<'migration'>> {
    let runId: string;
    try {
      runId = await startMigrationRun(this.deps.runs, this.deps.queue, requestId);
    } catch (error) {
      this.deps.logger.warn('could not start a migration run', { error: (error as Error).message });
      throw new ServiceUnavailableError('The job queue is unavailable; no run was started. Try again shortly.');
    }
    return this.deps.runs.get('migration', runId);
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<TrackedRunSummary<'migration'>>> {
    return withCursor(await this.deps.runs.list('migration', pageQuery(query)));
  }

  get(id: string): Promise<TrackedRun<'migration'>> {
    return this.deps.runs.get('migration', id);
  }
}
