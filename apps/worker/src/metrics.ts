import { createServer } from 'node:http';
import type { WorkerConfig } from '@orgms/common/config';
import { Counter, collectDefaultMetrics, Gauge, Histogram, register } from 'prom-client';

/**
 * Orphans found by the last orphans sweep, by kind. Registered in prom-client's default registry,
 * which the worker's own /metrics port (startMetricsServer below) serves with the rest.
 */
export const orphanDatabasesGauge = new Gauge({
  name: 'orgms_orphans',
  help: 'Orphans found by the last orphans sweep: databases with our marker but no live organization, active organizations without a database',
  labelNames: ['kind'] as const,
});

/**
 * Wall time of each step of every pipeline (provisioning, move, purge, export, archive_restore),
 * by outcome, as observed by the worker that ran it (pipelines/pipeline-runner.ts).
 */
export const pipelineStepDuration = new Histogram({
  name: 'orgms_pipeline_step_duration_seconds',
  help: 'Duration of each step of each pipeline (provisioning, move, purge, export, archive_restore) by outcome (ok, error)',
  labelNames: ['pipeline', 'step', 'outcome'] as const,
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/**
 * Each pass of each periodic sweep (sweeps/), by outcome (`ok`, `failed`): its `_count` is how
 * often a sweep ran, so a sweep that stopped running or keeps failing shows on its own.
 */
export const sweepDuration = new Histogram({
  name: 'orgms_sweep_duration_seconds',
  help: 'Duration of each pass of a periodic sweep of the maintenance queue, by sweep and outcome (ok, failed)',
  labelNames: ['sweep', 'outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

/**
 * Pipeline runs given up for good (permanent failure, or the last attempt failed), by pipeline;
 * the step histogram's `error` outcome also counts attempts that are retried. Each pipeline's
 * series is made at 0 when the worker starts (`countPipelineFailuresOf`), so that the first
 * failure is an increase Prometheus can see.
 */
export const pipelineFailures = new Counter({
  name: 'orgms_pipeline_failures_total',
  help: 'Pipeline runs given up for good (a permanent failure or the last attempt), by pipeline (provisioning, move, purge, dump, restore, archive_restore)',
  labelNames: ['pipeline'] as const,
});

export function countPipelineFailuresOf(pipelines: { name: string }[]): void {
  for (const { name } of pipelines) pipelineFailures.inc({ pipeline: name }, 0);
}

/** Jobs this worker found stalled (their worker died or blocked its event loop past the lock), by queue; BullMQ runs them again. */
export const stalledJobs = new Counter({
  name: 'orgms_worker_jobs_stalled_total',
  help: 'Jobs found stalled by this worker (their lock expired: a worker died or blocked), by queue; BullMQ moves them back to wait',
  labelNames: ['queue'] as const,
});

/** Backups (scheduled, manual, pre-restore) by outcome: `verified`, or `failed` for good. */
export const backupsMade = new Counter({
  name: 'orgms_backups_total',
  help: 'Organization backups finished by this worker, by outcome (verified, failed: given up for good)',
  labelNames: ['outcome'] as const,
});
for (const outcome of ['verified', 'failed']) backupsMade.inc({ outcome }, 0);

/** Organizations over a database quota, as the last quota sweep left them (`organization_limits.over_quota_since`). */
export const organizationsOverQuotaGauge = new Gauge({
  name: 'orgms_organizations_over_quota',
  help: 'Organizations whose database the last quota sweep found over its quota: their writes that grow them answer 403 quota-exceeded',
});

/** Jobs this worker finished, by queue and outcome (completed, failed). */
export const jobsProcessed = new Counter({
  name: 'orgms_worker_jobs_total',
  help: 'Jobs processed by this worker process, by queue and outcome',
  labelNames: ['queue', 'outcome'] as const,
});

/**
 * Webhook delivery attempts by outcome: `delivered`, `retried` (failed, tried again later) and
 * `failed` (out of retries: its endpoint is now `failing`), the one operators alert on.
 */
export const webhookDeliveries = new Counter({
  name: 'orgms_webhook_deliveries_total',
  help: 'Webhook delivery attempts by outcome (delivered, retried, failed: out of retries and the endpoint marked failing)',
  labelNames: ['outcome'] as const,
});
for (const outcome of ['delivered', 'retried', 'failed']) webhookDeliveries.inc({ outcome }, 0);

collectDefaultMetrics();

/**
 * `GET /metrics` (Prometheus) and `GET /health` of the worker on its own small port, since the
 * worker has no API. It listens on `host` (loopback by default: nothing on it is for the public).
 * Resolves to a close function; port 0 means disabled.
 */
export async function startMetricsServer(
  { port, host }: WorkerConfig['metrics'],
  logger: { info: (m: string, meta?: object) => void },
): Promise<() => Promise<void>> {
  if (port === 0) return async () => undefined;
  const server = createServer(async (req, res) => {
    if (req.url === '/metrics') {
      res.setHeader('Content-Type', register.contentType);
      res.end(await register.metrics());
    } else if (req.url === '/health') {
      res.setHeader('Content-Type', 'application/json');
      res.end('{"status":"ok"}');
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  logger.info('worker metrics listening', { host, port });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Restore drills of backups, by outcome (passed, failed): a failed one is also an error log line
 * and the event backup.restore_test_failed. Both series start at 0, so the first drill is an increase.
 */
export const backupRestoreTests = new Counter({
  name: 'orgms_backup_restore_tests_total',
  help: 'Backups restored into a scratch database and compared with their manifest, by outcome',
  labelNames: ['outcome'] as const,
});
for (const outcome of ['passed', 'failed']) backupRestoreTests.inc({ outcome }, 0);
