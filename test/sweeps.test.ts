import { randomBytes } from 'node:crypto';
import { loadConfig } from '@orgms/common/config';
import type { Logger } from '@orgms/common/logger';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { JOBS, QUEUES, SWEEPS, type SweepName, sweepSchedulerId } from '@orgms/common/queues/registry';
import { sweepDuration } from '@orgms/worker/metrics';
import { createJobHandlers, type JobServices } from '@orgms/worker/processors/job-handlers';
import { queueProcessor } from '@orgms/worker/processors/job-processor';
import { LEGACY_RECONCILE_SCHEDULER_ID, type Sweep, type SweepDeclarations, SweepRegistry } from '@orgms/worker/sweeps/sweep-registry';
import { declareSweeps, type WorkerSweepDeps } from '@orgms/worker/sweeps/worker-sweeps';
import { Queue, Worker } from 'bullmq';
import { expect } from 'chai';
import { startStack } from './support/stack';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A logger that keeps its lines, to read what a pass logged (only what SweepRegistry calls). */
function recordingLogger() {
  const lines: { level: string; message: string; [key: string]: unknown }[] = [];
  const log = (level: string, message: string, meta: object = {}) => lines.push({ level, message, ...meta });
  const logger = { log, warn: (message: string, meta?: object) => log('warn', message, meta) } as unknown as Logger;
  return { logger, lines };
}

/** Sweeps that count their passes; `failing` ones throw on every pass. */
function countingSweeps(intervalMs: (name: SweepName) => number, failing: SweepName[] = []) {
  const passes = Object.fromEntries(Object.values(SWEEPS).map((name) => [name, 0])) as Record<SweepName, number>;
  const declarations = Object.fromEntries(
    Object.values(SWEEPS).map((name): [SweepName, Sweep] => [
      name,
      {
        intervalMs: intervalMs(name),
        run: async () => {
          passes[name] += 1;
          if (failing.includes(name)) throw new Error(`${name} could not reach its database`);
          return { examined: 0 };
        },
      },
    ]),
  ) as SweepDeclarations;
  return { passes, declarations };
}

/** How often `sweep` was observed with `outcome` so far. */
async function observations(sweep: SweepName, outcome: 'ok' | 'failed'): Promise<number> {
  const { values } = await sweepDuration.get();
  return values.find((v) => v.metricName === 'orgms_sweep_duration_seconds_count' && v.labels.sweep === sweep && v.labels.outcome === outcome)?.value ?? 0;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = createRedis({ redisUrl: REDIS_URL }, 'worker');
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await closeRedis(redis);
  }
}

describe('Periodic sweeps', () => {
  describe('one pass (SweepRegistry.run)', () => {
    it('when a pass acts on something, then it is timed as outcome ok under its sweep and logged at info with its counts', async () => {
      const { logger, lines } = recordingLogger();
      const before = await observations(SWEEPS.stuckOrganizations, 'ok');
      const { declarations } = countingSweeps(() => 1000);
      declarations[SWEEPS.stuckOrganizations] = { intervalMs: 1000, run: async () => ({ examined: 3, enqueued: ['org-a', 'org-b'] }) };
      const summary = await new SweepRegistry(declarations, logger).run(SWEEPS.stuckOrganizations);
      expect(summary).to.deep.equal({ examined: 3, enqueued: ['org-a', 'org-b'] });
      expect(await observations(SWEEPS.stuckOrganizations, 'ok')).to.equal(before + 1);
      const line = lines.find((l) => l.message === 'sweep finished');
      expect(line).to.deep.include({ level: 'info', sweep: 'stuck-organizations', examined: 3, enqueued: 2 });
      expect(line?.durationMs).to.be.a('number');
    });

    it('when a pass finds nothing to do, then its line is at debug, so quiet intervals do not fill the log', async () => {
      const { logger, lines } = recordingLogger();
      await new SweepRegistry(countingSweeps(() => 1000).declarations, logger).run(SWEEPS.orphans);
      expect(lines.find((l) => l.message === 'sweep finished')).to.deep.include({ level: 'debug', sweep: 'orphans', examined: 0 });
    });

    it('when a pass fails, then it is timed as outcome failed, logged as a warning, and thrown so its job fails', async () => {
      const { logger, lines } = recordingLogger();
      const before = await observations(SWEEPS.auditRetention, 'failed');
      const registry = new SweepRegistry(countingSweeps(() => 1000, [SWEEPS.auditRetention]).declarations, logger);
      const error = await registry.run(SWEEPS.auditRetention).catch((e: unknown) => e);
      expect((error as Error).message).to.equal('audit-retention could not reach its database');
      expect(await observations(SWEEPS.auditRetention, 'failed')).to.equal(before + 1);
      expect(lines.find((l) => l.message === 'sweep failed')).to.deep.include({
        level: 'warn',
        sweep: 'audit-retention',
        error: 'audit-retention could not reach its database',
      });
    });
  });

  describe('the declarations (declareSweeps)', () => {
    it('when built from the default config, then every sweep runs on RECONCILE_INTERVAL_MS except orphans, on RECONCILE_ORPHANS_INTERVAL_MS, and quotas, on QUOTA_SWEEP_INTERVAL_MS', () => {
      const config = loadConfig({});
      const sweeps = declareSweeps({ settings: config.worker.reconcile, quotas: { intervalMs: config.limits.quotaSweepIntervalMs } } as WorkerSweepDeps);
      const intervals = Object.fromEntries(Object.entries(sweeps).map(([name, sweep]) => [name, sweep.intervalMs]));
      expect(intervals).to.deep.equal({
        'purges-due': 30000,
        'stuck-organizations': 30000,
        'lost-exports': 30000,
        orphans: 300000,
        'expired-exports': 30000,
        'expired-refresh-tokens': 30000,
        'audit-retention': 30000,
        quotas: 300000,
        backups: 30000,
        'expired-backups': 30000,
        'restore-drills': 30000,
        'spare-databases': 30000,
      });
    });
  });

  describe('on the maintenance queue (real Redis)', () => {
    let prefix: string;
    let queue: Queue;
    beforeEach(() => {
      prefix = `orgms-test-sweeps-${randomBytes(4).toString('hex')}`;
      queue = new Queue(QUEUES.maintenance, { connection: { url: REDIS_URL }, prefix });
    });
    afterEach(async () => {
      await queue.close();
      await deleteKeys(prefix);
    });

    it('when the sweeps are scheduled, then each has a scheduler of its own, sweep-<name>, every its own interval, and no reconcile scheduler is left', async () => {
      await queue.upsertJobScheduler(LEGACY_RECONCILE_SCHEDULER_ID, { every: 30000 }, { name: 'reconcile', data: {} });
      const { declarations } = countingSweeps((name) => 1000 * (Object.values(SWEEPS).indexOf(name) + 1));
      const registry = new SweepRegistry(declarations, recordingLogger().logger);
      await registry.schedule(queue);
      await registry.schedule(queue); // again, as on a reconnect: still one scheduler per sweep

      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).to.deep.equal(Object.values(SWEEPS).map(sweepSchedulerId).sort());
      for (const name of Object.values(SWEEPS)) {
        const scheduler = await queue.getJobScheduler(sweepSchedulerId(name));
        expect(scheduler, name).to.deep.include({ key: `sweep-${name}`, every: declarations[name].intervalMs, name: JOBS.sweep });
        expect(scheduler?.template?.data, name).to.deep.equal({ sweep: name });
      }
      expect(await registry.allScheduled(queue)).to.equal(true);
      await queue.removeJobScheduler(sweepSchedulerId(SWEEPS.orphans));
      expect(await registry.allScheduled(queue), 'one scheduler gone').to.equal(false);
    });

    it('when one sweep fails on every pass, then the others keep running on their schedule and the failing one is tried again at each interval', async function () {
      this.timeout(20000);
      const { passes, declarations } = countingSweeps(() => 300, [SWEEPS.purgesDue]);
      const { logger } = recordingLogger();
      const registry = new SweepRegistry(declarations, logger);
      const handlers = createJobHandlers({ sweeps: registry } as unknown as JobServices);
      const connection = createRedis({ redisUrl: REDIS_URL }, 'worker');
      const worker = new Worker(QUEUES.maintenance, queueProcessor(QUEUES.maintenance, handlers), { connection, prefix, concurrency: 1 });
      worker.on('error', () => undefined);
      try {
        await registry.schedule(queue);
        const deadline = Date.now() + 15000;
        while (Object.values(passes).some((n) => n < 3) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        expect(passes[SWEEPS.purgesDue], 'the failing sweep, tried again').to.be.at.least(3);
        for (const name of Object.values(SWEEPS)) expect(passes[name], name).to.be.at.least(3);
        expect(await queue.getJobCountByTypes('failed')).to.be.at.least(3);
      } finally {
        await worker.close();
        await closeRedis(connection);
      }
    });
  });

  describe('at worker start', () => {
    it('when Redis still holds the reconcile scheduler of an earlier version, then the worker removes it and schedules every sweep', async () => {
      const stack = await startStack();
      const queue = new Queue(QUEUES.maintenance, { connection: { url: REDIS_URL }, prefix: stack.config.queue.prefix });
      try {
        await queue.upsertJobScheduler(LEGACY_RECONCILE_SCHEDULER_ID, { every: 600000 }, { name: 'reconcile', data: {} });
        await stack.startWorker();
        expect(await queue.getJobScheduler(LEGACY_RECONCILE_SCHEDULER_ID)).to.equal(undefined);
        for (const name of Object.values(SWEEPS)) expect(await queue.getJobScheduler(sweepSchedulerId(name)), name).to.not.equal(undefined);
      } finally {
        await queue.close();
        await stack.stop();
      }
    });
  });
});
