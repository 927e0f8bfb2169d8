import { ConflictError, ServiceUnavailableError, ValidationError } from '../errors';
import type { DatabaseServer } from './database-server-store';
import { choosePlacement } from './placement';
import type { ServerDirectory } from './server-directory';
import { reachableServers, type ServerReachability } from './server-probe';

/** How long a client should wait when no server can take an organization now. */
const FLEET_RETRY_AFTER_SECONDS = 30;

/**
 * Where new organizations (and moved ones) go (fleet/placement.ts): among the servers that are
 * `active` and answer a probe, the one with the most free capacity. A full or unreachable
 * fleet is a 503 with Retry-After at request time, never a job that fails later.
 */
export class PlacementService {
  constructor(
    private readonly deps: {
      /** The fleet as this process knows it (re-read every few seconds and after this process changes it). */
      servers: Pick<ServerDirectory, 'all'>;
      reachability: Pick<ServerReachability, 'check'>;
    },
  ) {}

  /**
   * The servers a new organization may go to, reachable ones only: every active one, or the one
   * a platform admin named (400 when there is none of that name, 409 when it takes no new ones).
   */
  async candidates(options: { named?: string; excluding?: string } = {}): Promise<DatabaseServer[]> {
    const servers = (await this.deps.servers.all()).filter((server) => server.id !== options.excluding);
    let wanted = servers.filter((server) => server.status === 'active');
    if (options.named !== undefined) {
      const named = servers.find((server) => server.name === options.named);
      if (!named)
        throw new ValidationError(`No database server is named "${options.named}".`, [{ field: 'body.database_server', message: 'unknown database server' }]);
      if (named.status !== 'active') throw new ConflictError(`Database server ${named.name} is ${named.status}; it takes no new organizations.`);
      wanted = [named];
    }
    const reachable = await reachableServers(wanted, this.deps.reachability);
    if (reachable.length === 0) {
      throw new ServiceUnavailableError(
        wanted.length === 0 ? 'No database server takes new organizations now.' : 'No database server that could take the organization is reachable now.',
        FLEET_RETRY_AFTER_SECONDS,
      );
    }
    return reachable;
  }

  /** The server for one organization among `candidates`, given what each holds (read under the placement lock). */
  choose(candidates: DatabaseServer[], liveByServer: Map<string, number>): DatabaseServer {
    const server = choosePlacement(candidates, liveByServer);
    if (!server) throw new ServiceUnavailableError('Every database server that could take the organization is full.', FLEET_RETRY_AFTER_SECONDS);
    return server;
  }
}
