import type { MigrationRun, MigrationRunStore, MigrationRunSummary } from '@orgms/common/control-plane/migration-run-store';
import { ServiceUnavailableError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import { type MigrationsQueue, startMigrationRun } from '@orgms/common/queues/migrations-queue';
import { type Page, pageQuery, withCursor } from './pagination';

/** Fleet migrations: start a run of every organization database to the latest tenant migration, and follow it. */
export class MigrationRunsService {
  constructor(private readonly deps: { runs: MigrationRunStore; queue: MigrationsQueue; logger: Logger }) {}

  /** The worker does the run; without a job queue no run is started (503), none is left waiting. */
  async start(requestId: string): Promise<MigrationRun> {
    let runId: string;
    try {
      runId = await startMigrationRun(this.deps.runs, this.deps.queue, requestId);
    } catch (error) {
      this.deps.logger.warn('could not start a migration run', { error: (error as Error).message });
      throw new ServiceUnavailableError('The job queue is unavailable; no run was started. Try again shortly.');
    }
    return this.deps.runs.get(runId);
  }

  async list(query: { limit: number; cursor?: string }): Promise<Page<MigrationRunSummary>> {
    return withCursor(await this.deps.runs.list(pageQuery(query)));
  }

  get(id: string): Promise<MigrationRun> {
    return this.deps.runs.get(id);
  }
}
