import { setTimeout as sleep } from 'node:timers/promises';
import { sqlStateOf } from '@orgms/common/database/database-errors';
import { markerFor, quoteIdent, stagingNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';

/** How often, and how far apart, renameInUse tries again while new sessions slip in. */
const RENAME_ATTEMPTS = 20;
const RENAME_RETRY_MS = 50;

/** Advisory lock key of a template: clones and upgrades of it take this lock. */
export function templateLockKey(templateName: string): string {
  return `template:${templateName}`;
}

export type EnsureDatabaseOutcome = 'created' | 'cloned' | 'claimed' | 'restored' | 'adopted';

export interface EnsureDatabaseOptions {
  /** Clone this template when its marker says it is current (docs/architecture.md, "Template fast path"); otherwise create empty. */
  template?: { name: string; marker: string };
  /** Why the template was not used (missing, outdated, busy): for the caller's log. */
  onTemplateFallback?: (reason: string) => void;
  /**
   * Asked under the organization lock just before anything is created: false means the
   * organization was deleted meanwhile, so creating its database now would leak it.
   */
  stillWanted?: () => Promise<boolean>;
  /**
   * Instead of a template: fills the new, empty database (named `staging`) before it is marked and
   * renamed into place (an archive restored into it), so the final name never holds half of it.
   */
  fill?: (staging: string) => Promise<void>;
}

export interface DropDatabaseOutcome {
  dropped: string[];
  /** Databases under our name that carry someone else's marker: left alone. */
  foreign: string[];
}

/**
 * Server-level operations on organization databases (create, clone, mark, rename, drop), which
 * only the worker performs. `CREATE/DROP DATABASE` cannot run in a transaction, so this uses its
 * own direct `pg.Client` on a server's admin URL (never a pool, never PgBouncer).
 */
export class DatabaseAdmin {
  private constructor(private readonly client: Client) {}

  static async connect(adminUrl: string): Promise<DatabaseAdmin> {
    const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
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
  async ensureDatabase(orgId: string, databaseName: string, options: EnsureDatabaseOptions = {}): Promise<EnsureDatabaseOutcome> {
    return this.withLock(orgId, async () => {
      const marker = await this.markerOf(databaseName);
      if (marker !== undefined) {
        if (marker === markerFor(orgId)) return 'adopted';
        throw new JobFailure(`a database named ${databaseName} already exists and does not belong to this organization`, { permanent: true });
      }
      if (options.stillWanted && !(await options.stillWanted())) {
        throw new JobFailure('the organization is no longer being provisioned (deleted meanwhile)', { permanent: true });
      }
      const staging = stagingNameFor(databaseName);
      // A staging database is named after our own id, so a leftover one is ours to drop.
      await this.client.query(`DROP DATABASE IF EXISTS ${quoteIdent(staging)} WITH (FORCE)`);
      const cloned = options.template && !options.fill ? await this.tryClone(staging, options.template, options.onTemplateFallback) : false;
      if (!cloned) await this.client.query(`CREATE DATABASE ${quoteIdent(staging)}`);
      await options.fill?.(staging);
      await this.setMarker(staging, markerFor(orgId));
      await this.rename(staging, databaseName);
      if (cloned) return 'cloned';
      return options.fill ? 'restored' : 'created';
    });
  }

  /**
   * Clones the template into a spare database `name` under the template's lock, then marks it;
   * false (nothing made) when the template is not at `template.marker`. The name comes from the
   * spare's own id, so a leftover of a crash under it is ours and is dropped first.
   */
  async cloneSpare(name: string, template: { name: string; marker: string }, marker: string): Promise<boolean> {
    await this.dropDatabaseIfExists(name);
    const cloned = await this.withLock(templateLockKey(template.name), async () => {
      if ((await this.markerOf(template.name)) !== template.marker) return false;
      await this.client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template.name)}`);
      return true;
    });
    if (cloned) await this.setMarker(name, marker);
    return cloned;
  }

  /**
   * A spare database becomes the organization's, in one transaction of three round trips: renamed
   * to `databaseName` and marked as the organization's, then what `alsoInTransaction` builds on the
   * same session (its role taken over) runs with the commit. `missing`: nothing is under the
   * spare's name; `refused`: `alsoInTransaction` declined, and nothing changed.
   */
  async takeSpare(
    spareName: string,
    orgId: string,
    databaseName: string,
    alsoInTransaction?: (client: Client) => Promise<string | undefined>,
  ): Promise<'taken' | 'missing' | 'refused'> {
    const marker = markerFor(orgId);
    if (!/^[A-Za-z0-9:_-]+$/.test(marker)) throw new Error('refusing an unsafe database marker');
    try {
      // The simple query protocol takes several statements: one round trip for all three.
      await this.client.query(
        `BEGIN; ALTER DATABASE ${quoteIdent(spareName)} RENAME TO ${quoteIdent(databaseName)}; COMMENT ON DATABASE ${quoteIdent(databaseName)} IS '${marker}'`,
      );
      const statements = alsoInTransaction ? await alsoInTransaction(this.client) : '';
      if (statements === undefined) {
        await this.client.query('ROLLBACK');
        return 'refused';
      }
      await this.client.query(statements ? `${statements}; COMMIT` : 'COMMIT');
      return 'taken';
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      // 3D000: no database under the spare's name (its name comes from its id, so nothing else is ever there).
      if (sqlStateOf(error) === '3D000') return 'missing';
      throw error;
    }
  }

  /**
   * Drops `databaseName` (and a leftover staging database) if they are ours. WITH (FORCE)
   * terminates every remaining connection in the same statement, so a pool that reconnects
   * between a terminate and the drop cannot block it. Missing databases are fine: idempotent.
   */
  async dropDatabase(orgId: string, databaseName: string): Promise<DropDatabaseOutcome> {
    return this.withLock(orgId, async () => {
      const outcome: DropDatabaseOutcome = { dropped: [], foreign: [] };
      const staging = stagingNameFor(databaseName);
      for (const name of [databaseName, staging]) {
        const marker = await this.markerOf(name);
        if (marker === undefined) continue;
        if (name !== staging && marker !== markerFor(orgId)) {
          outcome.foreign.push(name);
          continue;
        }
        await this.client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
        outcome.dropped.push(name);
      }
      return outcome;
    });
  }

  /** Whether the database under `databaseName` exists and is this organization's (carries its marker). */
  async holds(orgId: string, databaseName: string): Promise<boolean> {
    return (await this.markerOf(databaseName)) === markerFor(orgId);
  }

  async createDatabase(name: string): Promise<void> {
    await this.client.query(`CREATE DATABASE ${quoteIdent(name)}`);
  }

  async dropDatabaseIfExists(name: string): Promise<void> {
    await this.client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  }

  /**
   * Makes new sessions of `name` read-only (a move's stop_writes) or writable again (its
   * rollback). Sessions already open keep what they had: the move waits for them to end.
   */
  async setReadOnly(name: string, readOnly: boolean): Promise<void> {
    await this.client.query(
      readOnly
        ? `ALTER DATABASE ${quoteIdent(name)} SET default_transaction_read_only = on`
        : `ALTER DATABASE ${quoteIdent(name)} RESET default_transaction_read_only`,
    );
  }

  /** The server's clock: what backend start times are compared with. */
  async serverNow(): Promise<Date> {
    const { rows } = await this.client.query<{ now: Date }>('SELECT clock_timestamp() AS now');
    return rows[0].now;
  }

  /** Sessions on `name` other than this one, optionally only those that started before `startedBefore`. */
  async sessionsOn(name: string, startedBefore?: Date): Promise<{ pid: number; state: string | null }[]> {
    const { rows } = await this.client.query<{ pid: number; state: string | null }>(
      // Client sessions only: an autovacuum worker comes back by itself (DROP … WITH (FORCE) ends it).
      `SELECT pid, state FROM pg_stat_activity
        WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND ($2::timestamptz IS NULL OR backend_start < $2)`,
      [name, startedBefore ?? null],
    );
    return rows;
  }

  async terminate(pids: number[]): Promise<void> {
    if (pids.length > 0) await this.client.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
  }

  /** Identifies the PostgreSQL instance behind the URL (two URLs may name the same one). */
  async instanceIdentity(): Promise<string> {
    const { rows } = await this.client.query<{ id: string }>(
      `SELECT pg_postmaster_start_time()::text || ':' || (SELECT oid FROM pg_database WHERE datname = current_database())::text AS id`,
    );
    return rows[0].id;
  }

  /** COMMENT takes no parameters: markers are built only from ids and migration names (database-names.ts). */
  async setMarker(name: string, marker: string): Promise<void> {
    if (!/^[A-Za-z0-9:_-]+$/.test(marker)) throw new Error('refusing an unsafe database marker');
    await this.client.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS '${marker}'`);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.client.query(`ALTER DATABASE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`);
  }

  /**
   * Renames a database that sessions may still use (an in-place restore's swap): PostgreSQL
   * renames only a database nobody is connected to, so its sessions are ended and the rename
   * tried again while a new one slipped in between, a few times.
   */
  async renameInUse(from: string, to: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      await this.terminate((await this.sessionsOn(from)).map((s) => s.pid));
      try {
        await this.rename(from, to);
        return;
      } catch (error) {
        // 55006: object in use.
        if (sqlStateOf(error) !== '55006' || attempt >= RENAME_ATTEMPTS) throw error;
        await sleep(RENAME_RETRY_MS);
      }
    }
  }

  /**
   * CREATE DATABASE … TEMPLATE under the template's lock, so no upgrade of the template runs
   * (and holds a connection to it) meanwhile. Any failure falls back to the slow path.
   */
  private async tryClone(target: string, template: { name: string; marker: string }, onFallback?: (reason: string) => void): Promise<boolean> {
    try {
      return await this.withLock(templateLockKey(template.name), async () => {
        const marker = await this.markerOf(template.name);
        if (marker !== template.marker) {
          onFallback?.(marker === undefined ? 'the template database does not exist' : `the template is at ${marker ?? 'an unknown version'}`);
          return false;
        }
        await this.client.query(`CREATE DATABASE ${quoteIdent(target)} TEMPLATE ${quoteIdent(template.name)}`);
        return true;
      });
    } catch (error) {
      onFallback?.(`cloning failed: ${(error as Error).message}`);
      await this.client.query(`DROP DATABASE IF EXISTS ${quoteIdent(target)} WITH (FORCE)`);
      return false;
    }
  }

  /** The database's comment; `undefined` when the database does not exist, `null` when it has none. */
  async markerOf(databaseName: string): Promise<string | null | undefined> {
    const { rows } = await this.client.query<{ marker: string | null }>(
      "SELECT shobj_description(oid, 'pg_database') AS marker FROM pg_database WHERE datname = $1",
      [databaseName],
    );
    return rows.length === 0 ? undefined : rows[0].marker;
  }

  /**
   * Serializes work on one organization's database (key: its id) or on a template (key:
   * templateLockKey) across workers. A session lock, freed on disconnect if we die holding it.
   * Lock order is always organization, then template, so the two never deadlock.
   */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    await this.client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
    try {
      return await fn();
    } finally {
      await this.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  }
}
