import { ConflictError } from '@orgms/common/errors';
import { choosePlacement } from '@orgms/common/fleet/placement';
import { reachableServers, type ServerReachability } from '@orgms/common/fleet/server-probe';
import type { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { JobFailure } from '../job-failure';
import type { SpareDatabases } from '../tenancy/spare-databases';
import type { MovesService } from './moves.service';
import type { OrganizationServers } from './organization-servers';

export interface DrainDeps {
  store: OrganizationStore;
  runs: TrackedRunStore;
  servers: OrganizationServers;
  reachability: Pick<ServerReachability, 'check'>;
  moves: Pick<MovesService, 'move'>;
  /** A draining server keeps no spare databases: they are dropped when its drain starts. */
  spares: Pick<SpareDatabases, 'refill'>;
  logger: Logger;
}

export interface DrainReport {
  moved: number;
  failed: number;
  skipped: number;
}

/**
 * Empties a `draining` server: plans one item per organization active on it, then moves them one
 * at a time (calling the move service directly, each to the placement choice among the other
 * active servers), recording each outcome. A re-run after a crash continues with the items still
 * pending; one whose move was under way when the worker died is carried on, not skipped.
 */
export class DrainService {
  constructor(private readonly deps: DrainDeps) {}

  async drain(drainId: string, requestId: string): Promise<DrainReport> {
    const { store, runs, logger } = this.deps;
    const drain = await runs.get('drain', drainId);
    if (drain.status === 'completed') return { moved: 0, failed: 0, skipped: 0 };
    // The directory may still see the server active for a few seconds: read it afresh, so its spares go now.
    this.deps.servers.directory.invalidate();
    await this.deps.spares
      .refill(drain.serverId)
      .catch((error) =>
        logger.warn('could not drop the draining server’s spare databases; the spare-databases sweep will', { error: (error as Error).message }),
      );
    const pending = await runs.plan(
      drainId,
      (await store.idsOnServer(drain.serverId, 'active')).map((orgId) => ({ orgId })),
    );
    const report: DrainReport = { moved: 0, failed: 0, skipped: 0 };
    for (const orgId of pending) {
      const outcome = await this.drainOne(drainId, drain.serverId, orgId, requestId);
      report[outcome] += 1;
    }
    await runs.complete(drainId);
    logger.info('server drained', { drainId, ...report });
    return report;
  }

  private async drainOne(drainId: string, serverId: string, orgId: string, requestId: string): Promise<keyof DrainReport> {
    const { store, runs, moves, logger } = this.deps;
    const org = await store.findLive(orgId);
    const item = await runs.item(drainId, orgId);
    const ours = org?.status === 'moving' && org.databaseServerId === serverId && item?.targetServerId === org.movingToServerId;
    const landed = org?.status === 'active' && item?.targetServerId != null && org.databaseServerId === item.targetServerId;
    if (!org || (!ours && !landed && (org.status !== 'active' || org.databaseServerId !== serverId))) {
      await runs.finishItem(drainId, orgId, 'skipped', org ? `the organization is ${org.status}` : 'the organization no longer exists');
      return 'skipped';
    }
    try {
      if (!ours && !landed) {
        const candidates = await this.candidates(serverId);
        const started = await store.startMove(orgId, {
          requestId,
          detail: 'moved off a draining server',
          place: (liveByServer) => {
            const target = choosePlacement(candidates, liveByServer);
            if (!target) throw new JobFailure('no other active server has room for it', { permanent: true });
            return target.id;
          },
        });
        await runs.setItemTarget(drainId, orgId, started.movingToServerId as string);
      }
      // The last attempt from the start: a failed move is rolled back now and the drain goes on.
      await moves.move(orgId, { requestId, fromServerId: serverId, isLastAttempt: true });
      const after = await store.get(orgId);
      if (after.status === 'active' && after.databaseServerId !== serverId) {
        await runs.finishItem(drainId, orgId, 'succeeded');
        return 'moved';
      }
      await runs.finishItem(drainId, orgId, 'failed', after.lastError ?? `the organization is ${after.status} on its old server`);
      return 'failed';
    } catch (error) {
      if (error instanceof ConflictError) {
        await runs.finishItem(drainId, orgId, 'skipped', error.message);
        return 'skipped';
      }
      const message = error instanceof JobFailure ? error.message : 'unexpected error; see the worker log';
      logger.warn('could not move an organization off a draining server', { orgId, error });
      await runs.finishItem(drainId, orgId, 'failed', message);
      return 'failed';
    }
  }

  /** The active servers other than the drained one that answer now. */
  private async candidates(serverId: string) {
    const others = (await this.deps.servers.directory.all()).filter((server) => server.id !== serverId && server.status === 'active');
    return reachableServers(others, this.deps.reachability);
  }
}
