import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { ensureControlDatabaseExists, migrateControlDatabase } from './control-data-source';
import { databaseNameOf } from './database-urls';
import { lockDownSharedDatabases } from './shared-databases';

/**
 * Connects `dataSource` to the control database, creating and migrating it first, closes it to
 * PUBLIC (organizations' roles must not log in there and LISTEN to its notifications), then runs
 * `prepare` (e.g. the bootstrap admin), and keeps trying all of it with backoff while any step
 * fails, so a process can start before its database and recover on its own. Resolves true only
 * once every step succeeded, false if `signal` aborts first.
 */
export async function connectControlPlane(
  dataSource: DataSource,
  database: DatabaseConfig,
  logger: Logger,
  signal?: AbortSignal,
  prepare: () => Promise<void> = async () => undefined,
): Promise<boolean> {
  for (let attempt = 1; !signal?.aborted; attempt++) {
    try {
      await ensureControlDatabaseExists(database);
      if (!dataSource.isInitialized) await dataSource.initialize();
      const applied = await migrateControlDatabase(dataSource);
      await lockDownSharedDatabases(database.url, [databaseNameOf(database.url)], [], logger);
      await prepare();
      logger.info('control database ready', { appliedMigrations: applied });
      return true;
    } catch (error) {
      const delayMs = Math.min(500 * 2 ** (attempt - 1), 10000);
      logger.warn('control database not reachable yet; retrying', { attempt, delayMs, error: (error as Error).message });
      await sleep(delayMs, undefined, { signal }).catch(() => undefined);
    }
  }
  return false;
}
