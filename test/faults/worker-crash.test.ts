import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, freePort, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, HeldAdvisoryLock, waitForStatuses } from '../support/service-processes';

/**
 * BullMQ gives a crashed worker's active jobs back through its stalled-job check: after the lock
 * (WORKER_LOCK_DURATION_MS) expires, the next check (every WORKER_STALLED_INTERVAL_MS) moves them
 * back to `wait`. This spec runs with the service's defaults (10 s and 5 s: back within 15 s)
 * and prints the recovery time; BullMQ's own 30 s defaults gave about a minute.
 */
describe('Fault: a worker killed with SIGKILL in the middle of a batch', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  let lock: HeldAdvisoryLock | undefined;

  afterEach(async function () {
    await lock?.release();
    await endFaultTest(this.currentTest, fe);
  });

  it('when the worker dies with jobs in flight, then a new worker finishes every org, each with exactly one database, none failed, and counts the two stalled jobs', async () => {
    // Empty values: the service's own defaults, not the fault environment's shorter ones.
    fe = await isolatedServiceEnv({ WORKER_CONCURRENCY: '2', WORKER_LOCK_DURATION_MS: '', WORKER_STALLED_INTERVAL_MS: '' });
    await startApi(fe);
    const first = await startWorker(fe, {}, 'worker-1');
    const api = new ApiClient(fe.baseUrl);
    const create = (i: number) =>
      api.createOrganization(`Crash Batch ${fe?.id} ${i}`).then((r) => {
        expect(r.status, JSON.stringify(r.body)).to.equal(202);
        return r.body.id as string;
      });

    // The first part of the batch goes through.
    const done = await Promise.all([0, 1, 2, 3].map(create));
    await waitForStatuses(fe, done, ['active'], 15000);

    // Then the worker is held inside create_database (it waits for the template lock while
    // holding the per-org lock), so jobs are surely in flight when it is killed.
    const templateLock = `template:${fe.orgPrefix}template`;
    lock = await HeldAdvisoryLock.acquire(templateLock);
    const rest = await Promise.all(Array.from({ length: 12 }, (_, i) => create(i + 4)));
    const all = [...done, ...rest];
    await waitUntil(async () => ((await lock?.waiters(templateLock)) ?? 0) >= 2, 10000, 'two jobs to be in flight');
    const inFlight = await controlQuery<{ id: string }>(fe, "SELECT id FROM organizations WHERE status = 'provisioning' AND id = ANY($1::uuid[])", [rest]);
    expect(inFlight, 'orgs in the middle of provisioning').to.have.length(2);

    first.signal('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).to.equal('SIGKILL');
    await lock.release();
    lock = undefined;

    const killedAt = Date.now();
    const metricsPort = await freePort();
    const second = await startWorker(fe, { WORKER_METRICS_PORT: String(metricsPort) }, 'worker-2');
    const secondRunningAt = Date.now();
    await waitForStatuses(fe, all, ['active', 'failed'], 95000);
    const recoveredMs = Date.now() - killedAt;

    const statuses = await controlQuery<{ status: string; n: number }>(
      fe,
      'SELECT status, count(*)::int AS n FROM organizations WHERE id = ANY($1::uuid[]) GROUP BY status',
      [all],
    );
    expect(statuses).to.deep.equal([{ status: 'active', n: all.length }]);
    await assertProvisionedExactlyOnce(fe, all);
    // The two interrupted orgs were started twice (attempts 2); every other one once.
    const attempts = await controlQuery<{ id: string; attempts: number }>(fe, 'SELECT id, attempts FROM organizations WHERE id = ANY($1::uuid[])', [all]);
    for (const { id, attempts: n } of attempts) expect(n, `attempts of ${id}`).to.equal(inFlight.some((o) => o.id === id) ? 2 : 1);
    expect(second.count((l) => l.message === 'organization active')).to.equal(12);
    // The new worker found the dead one's two jobs stalled (what OrgmsJobsStalled alerts on).
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).to.include('orgms_worker_jobs_stalled_total{queue="provisioning"} 2');
    expect(second.count((l) => l.message === 'job stalled; it runs again')).to.equal(2);
    process.stdout.write(
      `      (all ${all.length} orgs active ${recoveredMs} ms after the SIGKILL, ${Date.now() - secondRunningAt} ms after the new worker ran)\n`,
    );
  });
});
