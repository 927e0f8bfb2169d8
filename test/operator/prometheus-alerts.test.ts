import { QUEUES } from '@orgms/common/queues/registry';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { freePort, isolatedServiceEnv, pgQuery, type ServiceEnv, SHARED_REDIS_URL } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { PrometheusServer } from '../support/prometheus-server';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

describe('Alerts: a real Prometheus over a running API and worker (run `npm run build` first)', function () {
  this.timeout(90000);
  let fe: ServiceEnv | undefined;
  let prometheus: PrometheusServer | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe, async () => prometheus?.stop());
  });

  it('when provisioning fails for good, then Prometheus, evaluating deploy/prometheus/rules, fires OrgmsProvisioningFailed with its runbook (and while its job waited, the API showed its age)', async () => {
    const workerMetricsPort = await freePort();
    fe = await isolatedServiceEnv({ WORKER_METRICS_PORT: String(workerMetricsPort) }, 'alerts');
    await startApi(fe);
    await startWorker(fe);
    prometheus = await PrometheusServer.start({ api: `127.0.0.1:${fe.port}`, worker: `127.0.0.1:${workerMetricsPort}` });
    const server = prometheus;

    // Both targets are scraped and the failure counter is known at 0 before anything fails.
    await waitUntil(
      async () => {
        const up = await server.query('up{job=~"orgms-api|orgms-worker"} == 1');
        const failures = await server.query('orgms_pipeline_failures_total{pipeline="provisioning"}');
        return up.length === 2 && failures.length === 1 && failures[0].value === 0;
      },
      20000,
      'both targets scraped with the provisioning failure counter at 0',
      250,
    );
    expect((await server.alerts()).map((a) => a.labels.alertname)).to.not.include('OrgmsProvisioningFailed');

    // The job waits on a paused queue while a database without our marker takes the organization's
    // database name: create_database then refuses it, a permanent failure (no retry).
    const provisioning = new Queue(QUEUES.provisioning, { connection: { url: SHARED_REDIS_URL }, prefix: fe.queuePrefix });
    try {
      await provisioning.pause();
      const api = new ApiClient(fe.baseUrl);
      const created = await api.createOrganization(`Alerting ${fe.id}`);
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      const orgId = created.body.id as string;
      await pgQuery(`CREATE DATABASE "${fe.orgPrefix}${orgId.replace(/-/g, '')}"`);
      // Meanwhile the API reports how long the job has been waiting.
      const waiting = /orgms_queue_oldest_waiting_seconds\{queue="provisioning"\} ([0-9.e-]+)/.exec(await (await fetch(`${fe.baseUrl}/metrics`)).text());
      expect(Number(waiting?.[1])).to.be.greaterThan(0);
      await provisioning.resume();
      await waitForStatuses(fe, [orgId], ['failed'], 20000);
    } finally {
      await provisioning.close();
    }

    const alert = await waitUntil(
      async () => (await server.alerts()).find((a) => a.labels.alertname === 'OrgmsProvisioningFailed' && a.state === 'firing'),
      20000,
      'OrgmsProvisioningFailed to fire',
      250,
    );
    expect(alert.labels.severity).to.equal('warning');
    expect(alert.annotations.runbook).to.equal('docs/operations/runbook.md#orgmsprovisioningfailed');
    expect(alert.annotations.description).to.match(/^1 provisioning run\(s\) were given up for good/);
  });
});
