import { ServiceUnavailableError } from '@orgms/common/errors';
import type { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import type { TrackedRun, TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import { withTimeout } from '@orgms/common/process/timeout';
import { type MigrationsQueue, startDrain } from '@orgms/common/queues/migrations-queue';

/** How long a request may wait for Redis before it answers that no drain was started. */
const ENQUEUE_TIMEOUT_MS = 1000;

export interface DrainsServiceDeps {
  servers: Pick<DatabaseServerStore, 'get' | 'update'>;
  runs: TrackedRunStore;
  queue: MigrationsQueue;
  logger: Logger;
  /** Told when a drain changes a server's status, so this process stops placing there at once. */
  onServerChange?: () => void;
}

/**
 * Draining a database server (docs/api/fleet.md): an active server becomes `draining` (no new
 * organizations), and a tracked drain run asks the worker to move its organizations off one by
 * one (apps/worker/src/fleet/drain.service.ts). `POST /database-servers/{id}/drain` and
 * `npm run servers:drain` both go through here.
 */
export class DrainsService {
  constructor(private readonly deps: DrainsServiceDeps) {}

  /**
   * Stops new placements on the server (`draining`), records a drain run and asks the worker to
   * move every active organization off it. Without a job queue no run is started (503).
   */
  async drain(serverId: string, requestId: string): Promise<TrackedRun<'drain'>> {
    const { servers, runs } = this.deps;
    const server = await servers.get(serverId);
    if (server.status === 'active') {
      await servers.update(serverId, { status: 'draining' });
      this.deps.onServerChange?.();
    }
    try {
      const drainId = await withTimeout(startDrain(runs, this.deps.queue, serverId, requestId), ENQUEUE_TIMEOUT_MS, 'enqueueing drain-server');
      return await runs.get('drain', drainId);
    } catch (error) {
      this.deps.logger.warn('could not start a drain', { serverId, error: (error as Error).message });
      throw new ServiceUnavailableError('The job queue is unavailable; no drain was started (the server stays draining). Try again shortly.');
    }
  }

  getDrain(serverId: string, drainId: string): Promise<TrackedRun<'drain'>> {
    return this.deps.runs.get('drain', drainId, { serverId });
  }
}
