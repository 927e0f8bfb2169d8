import type { TenantPoolsConfig } from '@orgms/common/config';
import { isTransientDatabaseError, sqlStateOf } from '@orgms/common/database/database-errors';
import { ServiceUnavailableError } from '@orgms/common/errors';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { WRITES_PAUSED_STATUSES } from '@orgms/common/organizations/organization-status';
import type { DataSource } from 'typeorm';
import { TenantConnectionManager, type TenantConnectionManagerOptions, type TenantConnectionStats, type TenantRef } from './connection-manager';
import type { TenantLogins } from './tenant-logins';

export type TenantOrganization = Pick<Organization, 'id' | 'databaseName' | 'databaseServerId' | 'status'>;

/** How long a client should wait before writing to an organization that is being moved or restored. */
const WRITES_PAUSED_RETRY_AFTER_SECONDS = 5;

/** The database was ended under us (a move's or deletion's cut-over): a fresh pool reads elsewhere. */
function isCutOver(error: unknown): boolean {
  return sqlStateOf(error) === '3D000' || isTransientDatabaseError(error);
}

/**
 * The API's way into organization databases across the fleet: one connection manager (LRU pools,
 * one budget) per server and process, on the server the organization's row names. Reads keep
 * working while an organization is moved: one that meets a cut-over (its session ended, its
 * database gone) is retried once on a fresh pool. Writes are refused with a 503 while it moves,
 * by this check and, for a write that raced it, by the source database itself, which the move
 * makes read-only before it copies anything (apps/worker/src/fleet/moves.service.ts). Connections
 * log in as the organization's own role when it has one (tenant-logins.ts).
 */
export class TenantDatabases {
  private readonly managers = new Map<string, { manager: TenantConnectionManager; version: number; name: string }>();
  private closed = false;

  constructor(
    private readonly deps: {
      servers: Pick<ServerDirectory, 'get'>;
      pools: TenantPoolsConfig;
      logins: TenantLogins;
      logger?: Logger;
      /** For tests: options of every manager created. */
      managerOptions?: Partial<TenantConnectionManagerOptions>;
    },
  ) {}

  async read<T>(org: TenantOrganization, work: (db: DataSource) => Promise<T>): Promise<T> {
    try {
      return await this.run(org, work);
    } catch (error) {
      if (!isCutOver(error)) throw error;
      this.deps.logger?.info('organization database was cut over during a read; reading again', { orgId: org.id });
      await this.evict(org.id);
      return this.run(org, work);
    }
  }

  async write<T>(org: TenantOrganization, work: (db: DataSource) => Promise<T>): Promise<T> {
    if (WRITES_PAUSED_STATUSES.includes(org.status)) throw writesPausedError(org.status);
    try {
      return await this.run(org, work);
    } catch (error) {
      // 25006: the database was made read-only by a move or restore that started after this request read the organization.
      if (sqlStateOf(error) === '25006') throw writesPausedError();
      if (sqlStateOf(error) === '3D000') throw new ServiceUnavailableError('The organization database has just moved; send the request again.', 1);
      throw error;
    }
  }

  /**
   * Closes the organization's pools on every server (deletion, moves, a new role); running work
   * finishes first. The next connection reads its login again.
   */
  async evict(orgId: string): Promise<void> {
    this.deps.logins.forget(orgId);
    await Promise.all([...this.managers.values()].map(({ manager }) => manager.evict(orgId)));
  }

  /** Per server (by name), what this process holds. */
  stats(): Map<string, TenantConnectionStats> {
    return new Map([...this.managers.values()].map(({ name, manager }) => [name, manager.stats()]));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.managers.values()].map(({ manager }) => manager.close()));
  }

  private async run<T>(org: TenantOrganization, work: (db: DataSource) => Promise<T>): Promise<T> {
    const { manager, server } = await this.managerOf(org);
    const ref: TenantRef = { id: org.id, databaseName: org.databaseName, login: await this.deps.logins.of(org.id, server) };
    return manager.run(ref, work);
  }

  private async managerOf(org: TenantOrganization): Promise<{ manager: TenantConnectionManager; server: DatabaseServer }> {
    if (this.closed) throw new ServiceUnavailableError('The service is shutting down.');
    if (!org.databaseServerId) throw new ServiceUnavailableError('The organization has no database server yet; try again shortly.');
    const server = await this.deps.servers.get(org.databaseServerId);
    const version = server.updatedAt.getTime();
    const current = this.managers.get(server.id);
    if (current?.version === version) return { manager: current.manager, server };
    // The server's URLs or budget changed (PATCH): new pools use the new settings, old ones drain.
    if (current) void current.manager.close();
    const manager = this.createManager(server);
    this.managers.set(server.id, { manager, version, name: server.name });
    return { manager, server };
  }

  private createManager(server: DatabaseServer): TenantConnectionManager {
    return TenantConnectionManager.forServer(server, this.deps.pools, this.deps.logger, this.deps.managerOptions);
  }
}

/** Why writes answer 503 meanwhile, as far as this request knows (a raced write only knows the database refused it). */
const WRITES_PAUSED: Record<string, string> = {
  moving: 'The organization is being moved to another database server; reads work, writes resume when the move ends.',
  restoring: 'The organization is being restored from a backup; reads work until its data is swapped, writes resume when the restore ends.',
};

function writesPausedError(status?: Organization['status']): ServiceUnavailableError {
  const detail =
    (status && WRITES_PAUSED[status]) ?? 'The organization database is read-only while it is moved or restored; reads work, writes resume when that ends.';
  return new ServiceUnavailableError(detail, WRITES_PAUSED_RETRY_AFTER_SECONDS);
}
