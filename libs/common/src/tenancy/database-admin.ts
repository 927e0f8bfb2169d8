import { Client } from 'pg';
import type { Config } from '../config';
import { PermanentJobError } from '../errors';
import { markerFor, quoteIdent, stagingNameFor } from './database-names';

export type EnsureDatabaseOutcome = 'created' | 'adopted';

/**
 * Server-level operations on organization databases. `CREATE/DROP DATABASE` cannot run in a
 * transaction, so this uses its own direct `pg.Client` on ORG_DATABASE_URL, never a pool.
 */
export class DatabaseAdmin {
  private constructor(private readonly client: Client) {}

  static async connect(config: Config): Promise<DatabaseAdmin> {
    const client = new Client({ connectionString: config.orgDatabaseUrl, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined); // a terminated session surfaces on the next query instead
    await client.connect();
    return new DatabaseAdmin(client);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }

  /**
   * Makes sure `databaseName` exists and belongs to `orgId`, converging from any crash point:
   * the database is built under a staging name, marked, then renamed into place atomically,
   * so a database under the final name without our marker was never made by us and is refused.
   */
  async ensureDatabase(orgId: string, databaseName: string): Promise<EnsureDatabaseOutcome> {
    return this.withOrgLock(orgId, async () => {
      const marker = await this.markerOf(databaseName);
      if (marker !== undefined) {
        if (marker === markerFor(orgId)) return 'adopted';
        throw new PermanentJobError(`a database named ${databaseName} already exists and does not belong to this organization`);
      }
      const staging = stagingNameFor(databaseName);
      // A staging database is named after our own id, so a leftover one is ours to drop.
      await this.client.query(`DROP DATABASE IF EXISTS ${quoteIdent(staging)} WITH (FORCE)`);
      await this.client.query(`CREATE DATABASE ${quoteIdent(staging)}`);
      await this.client.query(`COMMENT ON DATABASE ${quoteIdent(staging)} IS '${markerFor(orgId)}'`);
      await this.client.query(`ALTER DATABASE ${quoteIdent(staging)} RENAME TO ${quoteIdent(databaseName)}`);
      return 'created';
    });
  }

  /** The database's comment; `undefined` when the database does not exist, `null` when it has none. */
  async markerOf(databaseName: string): Promise<string | null | undefined> {
    const { rows } = await this.client.query<{ marker: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = $1",
      [databaseName],
    );
    return rows.length === 0 ? undefined : rows[0].marker;
  }

  /** Serializes work on one organization's database across workers (session lock, freed on disconnect). */
  private async withOrgLock<T>(orgId: string, fn: () => Promise<T>): Promise<T> {
    await this.client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [orgId]);
    try {
      return await fn();
    } finally {
      await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [orgId]).catch(() => undefined);
    }
  }
}
