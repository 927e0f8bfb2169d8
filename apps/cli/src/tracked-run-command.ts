/**
 * What `npm run tenants:migrate` and `npm run limits:apply` share: start a tracked run through
 * the same common function as its route, then follow it until it completes (`--no-wait`: only
 * start it). Exits 1 if any organization failed.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@orgms/common/config';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { type TrackedRunKind, TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { createMigrationsQueue, type MigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';

export function runTrackedRunCommand(
  kind: Exclude<TrackedRunKind, 'drain'>,
  label: string,
  start: (runs: TrackedRunStore, queue: MigrationsQueue, requestId: string) => Promise<string>,
): void {
  follow(kind, label, start).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${label} failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}

async function follow(
  kind: Exclude<TrackedRunKind, 'drain'>,
  label: string,
  start: (runs: TrackedRunStore, queue: MigrationsQueue, requestId: string) => Promise<string>,
): Promise<number> {
  const config = loadConfig();
  const wait = !process.argv.includes('--no-wait');
  await ensureControlDatabaseExists(config.database);
  const dataSource = await createControlDataSource(config.database, 2).initialize();
  const redis = createRedis(config.queue, 'worker');
  const queue = createMigrationsQueue(config.queue, redis);
  try {
    await migrateControlDatabase(dataSource);
    const runs = new TrackedRunStore(dataSource);
    const runId = await start(runs, queue, `cli-${randomUUID()}`);
    console.log(`${label} run ${runId} started`);
    if (!wait) return 0;
    for (;;) {
      const run = kind === 'migration' ? await runs.get('migration', runId) : await runs.get('database_limits', runId);
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
