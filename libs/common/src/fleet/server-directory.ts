import { NotFoundError } from '../errors';
import type { DatabaseServer, DatabaseServerStore } from './database-server-store';

/**
 * A process's view of the fleet: servers by id, read again after `ttlMs` or on a miss, because
 * every tenant connection needs its server's URL and the fleet changes rarely (a PATCH is seen
 * by every process within `ttlMs`).
 */
export class ServerDirectory {
  private servers = new Map<string, DatabaseServer>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(
    private readonly store: Pick<DatabaseServerStore, 'list'>,
    private readonly ttlMs = 5000,
  ) {}

  async get(id: string): Promise<DatabaseServer> {
    if (Date.now() - this.loadedAt > this.ttlMs || !this.servers.has(id)) await this.reload();
    const server = this.servers.get(id);
    if (!server) throw new NotFoundError(`Database server ${id} does not exist.`);
    return server;
  }

  async all(): Promise<DatabaseServer[]> {
    if (Date.now() - this.loadedAt > this.ttlMs) await this.reload();
    return [...this.servers.values()];
  }

  /** Every server that may hold organization databases (not `disabled`): what templates, orphans and migrations cover. */
  async inService(): Promise<DatabaseServer[]> {
    return (await this.all()).filter((server) => server.status !== 'disabled');
  }

  /** Forgets what it knows: the next read asks the control database. */
  invalidate(): void {
    this.loadedAt = 0;
  }

  private reload(): Promise<void> {
    this.loading ??= this.store
      .list()
      .then((servers) => {
        this.servers = new Map(servers.map((s) => [s.id, s]));
        this.loadedAt = Date.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
