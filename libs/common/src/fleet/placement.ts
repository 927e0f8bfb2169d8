import type { DatabaseServer } from './database-server-store';

export type PlacementCandidate = Pick<DatabaseServer, 'id' | 'name' | 'capacity' | 'status'>;

/**
 * Where a new organization (or a moved one) goes: the `active` server with the most free
 * capacity, ties to the one holding fewer organizations, then by name so the choice is
 * deterministic. `undefined` when every candidate is full. Pure: callers pass only servers they
 * found reachable, and the live counts read under the placement lock.
 */
export function choosePlacement<T extends PlacementCandidate>(candidates: T[], liveByServer: Map<string, number>): T | undefined {
  const held = (server: T) => liveByServer.get(server.id) ?? 0;
  return candidates
    .filter((server) => server.status === 'active' && held(server) < server.capacity)
    .sort((a, b) => b.capacity - held(b) - (a.capacity - held(a)) || held(a) - held(b) || a.name.localeCompare(b.name))[0];
}
