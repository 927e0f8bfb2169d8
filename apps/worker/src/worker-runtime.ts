import {
  type Config,
  connectControlPlane,
  createControlDataSource,
  createProvisioningQueue,
  createRedis,
  JOBS,
  type Logger,
  OrganizationStore,
  QUEUES,
  RECONCILE_SCHEDULER_ID,
  shutdownInOrder,
} from '@orgms/common';
import { Queue, Worker } from 'bullmq';
import { createProvisionProcessor } from './processors/provision.processor';
import { createReconcileProcessor } from './processors/reconcile.processor';
import { type ProvisioningDeps, ProvisioningService } from './services/provisioning.service';
import { ReconcilerService } from './services/reconciler.service';

export interface WorkerRuntime {
  /** Resolves once the control database is reachable and the workers consume jobs. */
  ready: Promise<void>;
  provisioningWorker: Worker;
  stop: () => Promise<boolean>;
}

export interface WorkerOptions {
  beforeStep?: ProvisioningDeps['beforeStep'];
}

/**
 * Builds every part of the worker process. It starts even when PostgreSQL or Redis is down:
 * workers begin consuming once the control database is migrated and reachable.
 */
export function startWorkerRuntime(config: Config, logger: Logger, options: WorkerOptions = {}): WorkerRuntime {
  const connection = createRedis(config, 'worker');
  const controlDb = createControlDataSource(config, 5);
  const store = new OrganizationStore(controlDb);
  const provisioningQueue = createProvisioningQueue(config, connection);
  const maintenanceQueue = new Queue(QUEUES.maintenance, { connection, prefix: config.queuePrefix });
  maintenanceQueue.on('error', () => undefined);

  const provisioning = new ProvisioningService({ config, store, logger, beforeStep: options.beforeStep });
  const reconciler = new ReconcilerService({ store, provisioningQueue, logger, stuckAfterMs: config.reconcileStuckAfterMs });

  const workerOptions = { connection, prefix: config.queuePrefix, autorun: false } as const;
  const provisioningWorker = new Worker(QUEUES.provisioning, createProvisionProcessor(provisioning), {
    ...workerOptions,
    concurrency: config.workerConcurrency,
  });
  const maintenanceWorker = new Worker(QUEUES.maintenance, createReconcileProcessor(reconciler), { ...workerOptions, concurrency: 1 });
  for (const worker of [provisioningWorker, maintenanceWorker]) {
    worker.on('error', (error) => logger.warn('worker connection problem', { queue: worker.name, error: error.message }));
    worker.on('failed', (job, error) =>
      logger.warn('job attempt failed', { queue: worker.name, jobId: job?.id, attemptsMade: job?.attemptsMade, error: error.message }),
    );
  }

  const abort = new AbortController();
  const ready = (async () => {
    if (!(await connectControlPlane(controlDb, config, logger, abort.signal))) return;
    await maintenanceQueue.upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: config.reconcileIntervalMs }, { name: JOBS.reconcile, data: {} });
    void provisioningWorker.run();
    void maintenanceWorker.run();
    logger.info('worker started', { concurrency: config.workerConcurrency, queuePrefix: config.queuePrefix });
  })();

  const stop = () =>
    shutdownInOrder(
      [
        { name: 'stop connecting', run: async () => abort.abort() },
        // close() lets running jobs finish; jobs that outlive the time limit are picked up
        // again by another worker through BullMQ's stalled-job check.
        { name: 'finish running jobs', run: () => Promise.all([provisioningWorker.close(), maintenanceWorker.close()]) },
        { name: 'close queues', run: () => Promise.all([provisioningQueue.close(), maintenanceQueue.close()]) },
        { name: 'close control database', run: async () => controlDb.isInitialized && controlDb.destroy() },
        { name: 'close redis', run: () => connection.quit() },
      ],
      config.shutdownTimeoutMs,
      logger,
    );

  return { ready, provisioningWorker, stop };
}
