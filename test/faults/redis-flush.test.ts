import { QUEUES, SWEEPS, sweepSchedulerId } from '@orgms/common/queues/registry';
import { Queue } from 'bullmq';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { startApi, startWorker } from '../../harness/built-service';
import { isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, ThrowawayRedis, waitForStatuses } from '../support/service-processes';

const STUCK_ORGANIZATIONS = sweepSchedulerId(SWEEPS.stuckOrganizations);

describe('Fault: Redis loses its data without a restart (FLUSHALL)', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  let redis: ThrowawayRedis | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe, async () => redis?.dispose());
  });

  it('when every key is flushed while the worker stays connected, then the worker schedules the sweeps again, and the stuck-organizations sweep provisions the organization whose job was lost', async () => {
    redis = await ThrowawayRedis.start();
    fe = await isolatedServiceEnv({ REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '500', RECONCILE_STUCK_AFTER_MS: '1000' });
    await startApi(fe);
    const worker = await startWorker(fe);
    const api = new ApiClient(fe.baseUrl);
    await api.adminToken();
    const maintenance = new Queue(QUEUES.maintenance, { connection: { url: redis.url }, prefix: fe.queuePrefix });
    const flush = new IORedis(redis.url);
    try {
      expect(await maintenance.getJobScheduler(STUCK_ORGANIZATIONS)).to.not.equal(undefined);

      // The worker is paused so the provision job waits in Redis; the flush then loses it and the schedule.
      worker.signal('SIGSTOP');
      const created = await api.createOrganization(`Redis Flush ${fe.id}`);
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      await flush.flushall();
      worker.signal('SIGCONT');

      await waitUntil(async () => (await maintenance.getJobScheduler(STUCK_ORGANIZATIONS)) !== undefined, 5000, 'the sweeps to be scheduled again');
      await waitForStatuses(fe, [created.body.id], ['active', 'failed'], 20000);
      expect((await api.status(created.body.id)).status).to.equal('active');
      await assertProvisionedExactlyOnce(fe, [created.body.id]);
    } finally {
      flush.disconnect();
      await maintenance.close();
    }
  });
});
