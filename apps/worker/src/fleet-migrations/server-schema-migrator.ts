import { withDatabase } from '@orgms/common/database/database-urls';
import { createTenantDataSource, SCHEMA_CHANGE_SESSION } from '@orgms/common/database/tenant-data-source';
import { Client } from 'pg';
import { type DataSource, MigrationExecutor } from 'typeorm';

/**
 * Runs TypeORM's migration runner over one organization database after another on one server,
 * for a batch of a fleet migration. A DataSource per organization cost a pool, a login as the
 * organization's role (SCRAM) and TypeORM's start-up queries each time; here one DataSource (on
 * the server's admin database) serves the whole batch, and each organization costs one admin
 * connection to its database, which then acts as the organization's role (SET ROLE), so what the
 * migrations create is owned by the role as before. The runner is TypeORM's own (its table,
 * its transaction per migration), handed that connection.
 */
export class ServerSchemaMigrator {
  private dataSource?: Promise<DataSource>;

  constructor(private readonly adminUrl: string) {}

  /** Applies the pending tenant migrations to `databaseName` as `role` (none: as the admin, on a server without roles); returns their names. */
  async migrate(databaseName: string, role: string | undefined): Promise<string[]> {
    const dataSource = await this.runnerSource();
    // The same timeouts as every pool (pool-options.ts), and the session settings of schema changes.
    const client = new Client({ connectionString: withDatabase(this.adminUrl, databaseName), connectionTimeoutMillis: 5000, options: SCHEMA_CHANGE_SESSION });
    // A notice ending the connection (server restart) fails the query in flight; it must not crash the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      if (role) await client.query(`SET ROLE ${client.escapeIdentifier(role)}`);
      const runner = dataSource.createQueryRunner();
      // A query runner that already holds a connection uses it rather than one of its pool (PostgresQueryRunner#connect).
      (runner as unknown as { databaseConnection: Client }).databaseConnection = client;
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      try {
        return (await executor.executePendingMigrations()).map((m) => m.name);
      } finally {
        await runner.release();
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const dataSource = await this.dataSource?.catch(() => undefined);
    this.dataSource = undefined;
    await dataSource?.destroy().catch(() => undefined);
  }

  /** The DataSource whose migrations and runner serve every organization of the batch; made on first use, and again after a failed start. */
  private runnerSource(): Promise<DataSource> {
    this.dataSource ??= createTenantDataSource(this.adminUrl, 1, { schemaChanges: true })
      .initialize()
      .catch((error) => {
        this.dataSource = undefined;
        throw error;
      });
    return this.dataSource;
  }
}
