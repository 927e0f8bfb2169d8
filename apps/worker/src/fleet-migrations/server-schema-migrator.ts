import { withDatabase } from '@orgms/common/database/database-urls';
import { createTenantDataSource, SCHEMA_CHANGE_SESSION } from '@orgms/common/database/tenant-data-source';
import { Client } from 'pg';
import { type DataSource, MigrationExecutor } from 'typeorm';

/** Our role names (prefix + id): nothing to quote in a startup option. */
const PLAIN_ROLE_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * Runs TypeORM's migration runner over one organization database after another on one server,
 * for a batch of a fleet migration. A DataSource per organization cost a pool, a login as the
 * organization's role (SCRAM where passwords are checked) and TypeORM's start-up queries each
 * time; here one DataSource (on the server's admin database) serves the whole batch, and each
 * organization costs one admin connection to its database that acts as the organization's role
 * from its start (`-c role=…`, as SET ROLE: the admin is a member of every organization's role),
 * so what the migrations create is owned by the role as before. The runner is TypeORM's own (its
 * table, its transaction per migration), handed that connection.
 */
export class ServerSchemaMigrator {
  private dataSource?: Promise<DataSource>;
  /** Connections still closing: the next organization does not wait for a backend to exit, close() does. */
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly adminUrl: string) {}

  /** Applies the pending tenant migrations to `databaseName` as `role` (none: as the admin, on a server without roles); returns their names. */
  async migrate(databaseName: string, role: string | undefined): Promise<string[]> {
    const dataSource = await this.runnerSource();
    if (role !== undefined && !PLAIN_ROLE_NAME.test(role)) throw new Error(`unexpected role name ${JSON.stringify(role)}`);
    // The same connect timeout as every pool (pool-options.ts), and the session settings of schema changes.
    const client = new Client({
      connectionString: withDatabase(this.adminUrl, databaseName),
      connectionTimeoutMillis: 5000,
      options: role ? `${SCHEMA_CHANGE_SESSION} -c role=${role}` : SCHEMA_CHANGE_SESSION,
    });
    // A notice ending the connection (server restart) fails the query in flight; it must not crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
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
      const closed = client.end().catch(() => undefined);
      this.closing.add(closed);
      void closed.then(() => this.closing.delete(closed));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.closing);
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
