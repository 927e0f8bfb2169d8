import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, ThrowawayRedis, waitForStatuses } from '../support/service-processes';

describe('Fault: Redis unreachable when an organization is created', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  let redis: ThrowawayRedis | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe, async () => redis?.dispose());
  });

  it('when Redis is down at POST time, then /ready is 503, POST still answers 202, and once Redis is back (restarted empty) the reconciler provisions the org exactly once', async () => {
    redis = await ThrowawayRedis.start();
    fe = await isolatedServiceEnv({ REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '500', RECONCILE_STUCK_AFTER_MS: '1000' });
    await startApi(fe);
    await startWorker(fe);
    const api = new ApiClient(fe.baseUrl);
    await api.adminToken(); // logins use Redis (rate limit), so take the token while it is up
    expect((await api.request('GET', '/ready', { auth: false })).status).to.equal(200);

    // Redis goes away (killed; it kept nothing, like the project's own Redis).
    await redis.stop();
    const ready = await api.request('GET', '/ready', { auth: false });
    expect(ready.status).to.equal(503);
    expect(ready.body.checks).to.deep.equal({ postgres: 'ok', redis: 'unavailable' });

    const started = Date.now();
    const created = await api.createOrganization(`Redis Outage ${fe.id}`);
    const postMs = Date.now() - started;
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    expect(created.body.status).to.equal('pending');
    expect(postMs, 'POST must not hang on a dead Redis').to.be.below(3000);
    const id = created.body.id as string;

    // Nothing can provision it while Redis is down: it stays pending, and it is still readable.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.status(id)).status).to.equal('pending');

    // Redis comes back on the same port, empty.
    await redis.start();
    await waitUntil(async () => (await api.request('GET', '/ready', { auth: false })).status === 200, 15000, '/ready to be 200 again');
    await waitForStatuses(fe, [id], ['active', 'failed'], 30000);
    expect((await api.status(id)).status).to.equal('active');

    // Exactly once, also after a few more reconciler passes.
    await new Promise((r) => setTimeout(r, 1500));
    await assertProvisionedExactlyOnce(fe, [id]);
    const [{ attempts }] = await controlQuery<{ attempts: number }>(fe, 'SELECT attempts FROM organizations WHERE id = $1', [id]);
    expect(attempts).to.equal(1);
  });

  it('when Redis comes back, then the API hands over the job it could not enqueue at once, without waiting for the reconciler', async () => {
    redis = await ThrowawayRedis.start();
    // The fault environment's reconciler runs every 10 min: only the API's handover can be quick.
    fe = await isolatedServiceEnv({ REDIS_URL: redis.url });
    await startApi(fe);
    await startWorker(fe);
    const api = new ApiClient(fe.baseUrl);
    await api.adminToken();

    await redis.stop();
    const created = await api.createOrganization(`Redis Handover ${fe.id}`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const id = created.body.id as string;

    await redis.start();
    const back = Date.now();
    await waitForStatuses(fe, [id], ['active', 'failed'], 20000);
    const activeAfterMs = Date.now() - back;
    expect((await api.status(id)).status).to.equal('active');
    await assertProvisionedExactlyOnce(fe, [id]);
    process.stdout.write(`      (active ${activeAfterMs} ms after Redis was back)\n`);
  });

  it('when Redis restarts with its data (saved) after the outage, then the org created meanwhile becomes active exactly once', async () => {
    redis = await ThrowawayRedis.start();
    fe = await isolatedServiceEnv({ REDIS_URL: redis.url, RECONCILE_INTERVAL_MS: '500', RECONCILE_STUCK_AFTER_MS: '1000' });
    await startApi(fe);
    await startWorker(fe);
    const api = new ApiClient(fe.baseUrl);
    await api.adminToken();

    await redis.stop({ save: true });
    expect((await api.request('GET', '/ready', { auth: false })).status).to.equal(503);
    const created = await api.createOrganization(`Redis Restart ${fe.id}`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const id = created.body.id as string;

    await redis.start();
    await waitForStatuses(fe, [id], ['active', 'failed'], 30000);
    expect((await api.status(id)).status).to.equal('active');
    await new Promise((r) => setTimeout(r, 1500));
    await assertProvisionedExactlyOnce(fe, [id]);
  });
});
