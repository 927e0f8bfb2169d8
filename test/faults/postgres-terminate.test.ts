import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, terminateOwnBackends, waitForStatuses } from '../support/service-processes';

const STORM_MS = 3000;

describe('Fault: PostgreSQL connections terminated mid-run', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe);
  });

  it('when every backend of our databases is terminated repeatedly while orgs are provisioned, then jobs retry and converge, and the API recovers without a restart', async () => {
    fe = await isolatedServiceEnv({
      WORKER_CONCURRENCY: '2',
      PROVISION_BACKOFF_MS: '500', // 5 attempts span 0.5+1+2+4 s, longer than the storm
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_STUCK_AFTER_MS: '5000',
    });
    const env = fe;
    const apiProcess = await startApi(env);
    const worker = await startWorker(env);
    const api = new ApiClient(env.baseUrl);
    await api.adminToken();

    // The storm: pg_terminate_backend on every session of our control and org databases, every 100 ms.
    let terminated = 0;
    let storming = true;
    const storm = (async () => {
      const until = Date.now() + STORM_MS;
      while (Date.now() < until) {
        terminated += await terminateOwnBackends(env);
        await sleep(100);
      }
      storming = false;
    })();

    // Meanwhile: a steady stream of creations and reads, a few at a time.
    const answers: number[] = [];
    const notProblems: string[] = [];
    const record = (res: { status: number; headers: Headers }) => {
      answers.push(res.status);
      if (res.status >= 400 && !String(res.headers.get('content-type')).startsWith('application/problem+json')) notProblems.push(String(res.status));
    };
    let i = 0;
    while (storming) {
      const batch = await Promise.all([
        ...[0, 1, 2].map(() => api.createOrganization(`Pg Storm ${env.id} ${i++}`)),
        api.request('GET', '/organizations?limit=5'),
        api.request('GET', '/organizations?status=active'),
      ]);
      batch.forEach(record);
      await sleep(100);
    }
    await storm;

    // Never a 500 or a hang: only 2xx, or 503 + problem+json while the database is away.
    expect(
      answers.filter((s) => s !== 202 && s !== 200 && s !== 503),
      `answers during the storm: ${answers.join(',')}`,
    ).to.deep.equal([]);
    expect(notProblems, 'errors are problem+json').to.deep.equal([]);
    expect(terminated, 'the storm terminated sessions').to.be.above(0);

    // The API recovers by itself: same process, requests succeed again.
    expect(apiProcess.alive).to.equal(true);
    const list = await api.request('GET', '/organizations?limit=100');
    expect(list.status).to.equal(200);
    const after = await api.createOrganization(`Pg After ${env.id}`);
    expect(after.status).to.equal(202);

    // Every org that exists (including any whose POST answered 503 after its commit) converges to active.
    const ids = (await controlQuery<{ id: string }>(env, 'SELECT id FROM organizations')).map((r) => r.id);
    expect(ids.length).to.be.at.least(answers.filter((s) => s === 202).length + 1);
    await waitForStatuses(env, ids, ['active', 'failed'], 40000);
    const failed = await controlQuery<{ id: string; last_error: string }>(env, "SELECT id, last_error FROM organizations WHERE status <> 'active'");
    expect(failed, 'no org failed').to.deep.equal([]);
    await assertProvisionedExactlyOnce(env, ids);

    const retried = worker.count((l) => l.message === 'job attempt failed' || l.message === 'provisioning step failed');
    const apiUnavailable = apiProcess.count((l) => l.message === 'database unavailable during request');
    process.stdout.write(
      `      (${terminated} sessions terminated; ${ids.length} orgs; ${retried} failed job attempts retried; ${answers.filter((s) => s === 503).length}/${answers.length} API answers were 503, ${apiUnavailable} logged)\n`,
    );
  });
});
