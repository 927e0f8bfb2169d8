import { ConflictError, ServiceUnavailableError } from '@orgms/common/errors';
import type { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import type { PlacementService } from '@orgms/common/fleet/placement-service';
import type { TrackedRun, TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { withTimeout } from '@orgms/common/process/timeout';
import { type MigrationsQueue, startDrain } from '@orgms/common/queues/migrations-queue';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import type { JobHandover } from '../http/job-handover';

/** How long a request may wait for Redis before leaving the enqueue to the reconciler. */
const ENQUEUE_TIMEOUT_MS = 1000;

export interface MovesServiceDeps {
  store: Pick<OrganizationStore, 'get' | 'startMove'>;
  servers: Pick<DatabaseServerStore, 'get' | 'findByName' | 'update'>;
  runs: TrackedRunStore;
  placement: Pick<PlacementService, 'candidates' | 'choose'>;
  jobs: Pick<OrganizationJobs, 'move'>;
  /** Where a move job Redis refuses waits for the reconnect. */
  handover: Pick<JobHandover, 'submit'>;
  queue: MigrationsQueue;
  logger: Logger;
  /** Told when a drain changes a server's status, so this process stops placing there at once. */
  onServerChange?: () => void;
}

/**
 * Moving organizations between database servers, and draining a server (docs/api/fleet.md). The API
 * records the intent (`moving` with its target, or a drain run) under the placement lock; the
 * worker copies, verifies, switches and drops (apps/worker/src/fleet/moves.service.ts, drain.service.ts).
 */
export class MovesService {
  constructor(private readonly deps: MovesServiceDeps) {}

  /**
   * `active → moving` towards the server named `serverName`: 400 when there is none of that name,
   * 409 when it is the organization's own server, takes no new organizations, or the organization
   * is not active; 503 when it is full or unreachable. Then asks the worker to move it.
   */
  async move(id: string, serverName: string, requestId: string): Promise<Organization> {
    const { store, servers, placement } = this.deps;
    const org = await store.get(id);
    const named = await servers.findByName(serverName);
    if (named && named.id === org.databaseServerId) throw sameServer(org, named.name);
    const candidates = await placement.candidates({ named: serverName });
    const moving = await store.startMove(id, {
      requestId,
      detail: `move to ${serverName} requested`,
      place: (liveByServer, current) => {
        const target = placement.choose(candidates, liveByServer);
        if (target.id === current.databaseServerId) throw sameServer(current, target.name);
        return target.id;
      },
    });
    const fromServerId = moving.databaseServerId as string;
    await this.deps.handover.submit(`move:${id}`, () => this.deps.jobs.move({ orgId: id, requestId, fromServerId }));
    return moving;
  }

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

function sameServer(org: Pick<Organization, 'id'>, serverName: string): ConflictError {
  return new ConflictError(`Organization ${org.id} is already on ${serverName}.`);
}
