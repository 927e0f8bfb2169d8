import { rename, writeFile } from 'node:fs/promises';
import type { FleetConfig } from '@orgms/common/config';
import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import { hostAndPortOf } from '@orgms/common/fleet/server-urls';
import type { Logger } from '@orgms/common/logger';
import type { DatabaseOwner, OrganizationStore } from '@orgms/common/organizations/organization-store';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

export type PgBouncerSettings = NonNullable<FleetConfig['pgbouncer']>;

/**
 * Keeps the `[databases]` entries of a PgBouncer shared by several servers (PGBOUNCER_DATABASES_FILE).
 * PgBouncer routes by database name and has no per-server wildcard, so each organization database
 * on a server with a pool URL gets a line `org_… = host=… port=… dbname=org_…`, written from the
 * control database (the one truth) and followed by RELOAD on the admin console. Writers take a
 * control-database lock, so two workers never interleave an older list over a newer one.
 */
export class PgBouncerDatabases {
  constructor(
    private readonly deps: {
      settings: PgBouncerSettings;
      controlDb: DataSource;
      store: Pick<OrganizationStore, 'databaseOwners'>;
      servers: ServerDirectory;
      logger: Logger;
    },
  ) {}

  /**
   * Rewrites the entries and reloads PgBouncer. `placedOn` overrides where an organization's
   * database is (a move points PgBouncer at its verified copy before the switch is committed).
   */
  async sync(placedOn: Record<string, string> = {}): Promise<number> {
    const { settings, controlDb, store } = this.deps;
    return controlDb.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('orgms:pgbouncer-databases'))`);
      const lines = await this.entries(await store.databaseOwners(), placedOn);
      const temporary = `${settings.databasesFile}.${process.pid}.tmp`;
      await writeFile(temporary, `; written by orgms (worker) from the control database: do not edit\n${lines.join('\n')}\n`);
      await rename(temporary, settings.databasesFile);
      await this.adminCommand('RELOAD');
      return lines.length;
    });
  }

  /** Asks PgBouncer to replace the server connections of `databaseName` once they are released. */
  async reconnect(databaseName: string): Promise<void> {
    await this.adminCommand(`RECONNECT ${databaseName}`).catch((error) =>
      this.deps.logger.warn('PgBouncer could not reconnect a database', { database: databaseName, error: (error as Error).message }),
    );
  }

  private async entries(owners: DatabaseOwner[], placedOn: Record<string, string>): Promise<string[]> {
    const lines: string[] = [];
    for (const owner of owners) {
      const serverId = placedOn[owner.id] ?? owner.databaseServerId;
      if (!serverId) continue;
      const server = await this.deps.servers.get(serverId);
      if (!server.poolUrl) continue;
      const { host, port } = hostAndPortOf(server.adminUrl);
      // Names come from our ids (database-names.ts) and host/port from a parsed URL: nothing to quote.
      lines.push(`${owner.databaseName} = host=${host} port=${port} dbname=${owner.databaseName}`);
    }
    return lines.sort();
  }

  /** The admin console speaks only the simple query protocol: no parameters. */
  private async adminCommand(command: string): Promise<void> {
    if (!/^[A-Z]+( [a-z0-9_]+)?$/.test(command)) throw new Error('refusing an unexpected PgBouncer command');
    const client = new Client({ connectionString: this.deps.settings.adminUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(command);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
