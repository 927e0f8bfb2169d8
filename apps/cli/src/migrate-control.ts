/** `npm run migrate`: create the control database if missing and apply its migrations. */
import { loadConfig } from '@orgms/common/config';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { createLogger } from '@orgms/common/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('migrate', config.runtime.logLevel);
  await ensureControlDatabaseExists(config.database);
  const dataSource = await createControlDataSource(config.database, 2).initialize();
  try {
    const applied = await migrateControlDatabase(dataSource);
    logger.info('control database migrated', { appliedMigrations: applied });
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
});
