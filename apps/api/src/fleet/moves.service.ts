import { ConflictError } from '@orgms/common/errors';
import type { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import type { PlacementService } from '@orgms/common/fleet/placement-service';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import type { JobHandover } from '../http/job-handover';

export interface MovesServiceDeps {
  store: Pick<OrganizationStore, 'get' | 'startMove'>;
  servers: Pick<DatabaseServerStore, 'get' | 'findByName' | 'update'>;
  placement: Pick<PlacementService, 'candidates' | 'choose'>;
  jobs: Pick<OrganizationJobs, 'move'>;
  /** Where a move job Redis refuses waits for the reconnect. */
  handover: Pick<JobHandover, 'submit'>;
}

/**
 * Moving an organization to another database server (docs/api/fleet.md). The API records the
 * intent (`moving` with its target) under the placement lock; the worker copies, verifies, switches
 * and drops (apps/worker/src/fleet/moves.service.ts). Drains: drains.service.ts.
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
}

function sameServer(org: Pick<Organization, 'id'>, serverName: string): ConflictError {
  return new ConflictError(`Organization ${org.id} is already on ${serverName}.`);
}
