/**
 * `npm run tenants:migrate`: starts a fleet migration run (the same as POST /migrations/runs)
 * and follows it until it completes. A worker must be running to do the work. Exits 1 if any
 * organization failed; `--no-wait` only starts the run and prints its id.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@orgms/common/config';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { createMigrationsQueue, startMigrationRun } from '@orgms/common/queues/migrations-queue';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';

async function main(): Promise<number> {
  const config = loadConfig();
  const follow = !process.argv.includes('--no-wait');
  await ensureControlDatabaseExists(config.database);
  const dataSource = await createControlDataSource(config.database, 2).initialize();
  const redis = createRedis(config.queue, 'worker');
  const queue = createMigrationsQueue(config.queue, redis);
  try {
    await migrateControlDatabase(dataSource);
    const runs = new TrackedRunStore(dataSource);
    const runId = await startMigrationRun(runs, queue, `cli-${randomUUID()}`);
    console.log(`migration run ${runId} started`);
    if (!follow) return 0;
    for (;;) {
      const run = await runs.get('migration', runId);
      const { total, succeeded, failed, skipped, pending } = run.totals;
      console.log(`${run.status}: ${total - pending}/${total} done (succeeded ${succeeded}, failed ${failed}, skipped ${skipped})`);
      if (run.status === 'completed') {
        for (const failure of run.failures) console.log(`  failed ${failure.orgId}: ${failure.error}`);
        return failed > 0 ? 1 : 0;
      }
      await sleep(1000);
    }
  } finally {
    await queue.close();
    await closeRedis(redis);
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`tenant migration failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
