import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import type { ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import { ApiClient, assertProvisionedExactlyOnce, endFaultTest, HeldAdvisoryLock, waitForStatuses } from '../support/service-processes';

/**
 * SIGTERM to a worker while jobs are in flight. The jobs are held inside create_database (the
 * test holds the template's advisory lock, which every clone takes while holding the org lock),
 * so "in flight" is certain, not a race.
 */
describe('Fault: graceful shutdown of a worker with jobs in flight', function () {
  this.timeout(110000);
  let fe: ServiceEnv | undefined;
  let lock: HeldAdvisoryLock | undefined;

  afterEach(async function () {
    await lock?.release();
    lock = undefined;
    await endFaultTest(this.currentTest, fe);
  });

  async function batchInFlight(shutdownTimeoutMs: number, count: number) {
    fe = await isolatedServiceEnv({ WORKER_CONCURRENCY: '2', SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) });
    const env = fe;
    await startApi(env);
    const worker = await startWorker(env, {}, 'worker-1');
    const api = new ApiClient(env.baseUrl);
    const templateLock = `template:${env.orgPrefix}template`;
    lock = await HeldAdvisoryLock.acquire(templateLock);
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const res = await api.createOrganization(`Shutdown ${env.id} ${i}`);
        expect(res.status, JSON.stringify(res.body)).to.equal(202);
        return res.body.id as string;
      }),
    );
    await waitUntil(async () => ((await lock?.waiters(templateLock)) ?? 0) >= 2, 10000, 'two jobs to be in flight');
    const inFlight = (
      await controlQuery<{ id: string }>(env, "SELECT id FROM organizations WHERE status = 'provisioning' AND id = ANY($1::uuid[])", [ids])
    ).map((r) => r.id);
    expect(inFlight).to.have.length(2);
    return { env, worker, ids, inFlight };
  }

  async function statusCounts(env: ServiceEnv, ids: string[]): Promise<Record<string, number>> {
    const rows = await controlQuery<{ status: string; n: number }>(
      env,
      'SELECT status, count(*)::int AS n FROM organizations WHERE id = ANY($1::uuid[]) GROUP BY status',
      [ids],
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async function sigterm(worker: ServiceProcess): Promise<number> {
    const at = Date.now();
    worker.signal('SIGTERM');
    await worker.waitForLog((l) => l.message === 'shutting down', 5000, 'shutting down');
    return at;
  }

  it('when SIGTERM arrives while jobs run, then the worker finishes them, takes no new job, exits 0 within SHUTDOWN_TIMEOUT_MS, and a new worker completes the rest exactly once', async () => {
    const { env, worker, ids, inFlight } = await batchInFlight(8000, 8);
    const signalledAt = await sigterm(worker);

    // The running jobs are still blocked: the worker must wait for them, not exit.
    await new Promise((r) => setTimeout(r, 1000));
    expect(worker.alive, 'the worker waits for its running jobs').to.equal(true);
    await lock?.release();
    lock = undefined;

    const exit = await worker.exited;
    const shutdownMs = exit.at - signalledAt;
    expect(exit.code, 'a clean shutdown').to.equal(0);
    expect(shutdownMs).to.be.below(8000);
    expect(
      worker.count((l) => l.message === 'organization active'),
      'it finished exactly its two running jobs',
    ).to.equal(2);
    expect(await statusCounts(env, ids)).to.deep.equal({ active: 2, pending: ids.length - 2 });
    const finished = await controlQuery<{ id: string }>(env, "SELECT id FROM organizations WHERE status = 'active' AND id = ANY($1::uuid[])", [ids]);
    expect(finished.map((r) => r.id).sort()).to.deep.equal([...inFlight].sort());

    const second = await startWorker(env, {}, 'worker-2');
    await waitForStatuses(env, ids, ['active', 'failed'], 20000);
    expect(await statusCounts(env, ids)).to.deep.equal({ active: ids.length });
    expect(second.count((l) => l.message === 'organization active')).to.equal(ids.length - 2);
    await assertProvisionedExactlyOnce(env, ids);
    const attempts = await controlQuery<{ n: number }>(env, 'SELECT max(attempts)::int AS n FROM organizations WHERE id = ANY($1::uuid[])', [ids]);
    expect(attempts[0].n, 'no job ran twice').to.equal(1);
    process.stdout.write(`      (SIGTERM → exit 0 in ${shutdownMs} ms, both running jobs finished)\n`);
  });

  it('when running jobs outlast SHUTDOWN_TIMEOUT_MS, then the worker still exits in time and the cut-off jobs are handed back (stalled-job check) and completed exactly once', async () => {
    const { env, worker, ids, inFlight } = await batchInFlight(3000, 6);
    const signalledAt = await sigterm(worker);
    const exit = await worker.exited;
    const shutdownMs = exit.at - signalledAt;
    expect(shutdownMs, 'exits within SHUTDOWN_TIMEOUT_MS (+ process teardown)').to.be.below(3000 + 1000);
    expect(exit.code, 'an unclean (timed out) shutdown is reported by the exit code').to.equal(1);
    expect(worker.count((l) => l.message === 'organization active')).to.equal(0);
    expect(await statusCounts(env, ids)).to.deep.equal({ provisioning: 2, pending: ids.length - 2 });
    await lock?.release();
    lock = undefined;

    const startedAt = Date.now();
    await startWorker(env, {}, 'worker-2');
    await waitForStatuses(env, ids, ['active', 'failed'], 95000);
    const handBackMs = Date.now() - startedAt;
    expect(await statusCounts(env, ids)).to.deep.equal({ active: ids.length });
    await assertProvisionedExactlyOnce(env, ids);
    const attempts = await controlQuery<{ id: string; attempts: number }>(env, 'SELECT id, attempts FROM organizations WHERE id = ANY($1::uuid[])', [ids]);
    for (const { id, attempts: n } of attempts) expect(n, `attempts of ${id}`).to.equal(inFlight.includes(id) ? 2 : 1);
    process.stdout.write(`      (SIGTERM → exit ${exit.code} in ${shutdownMs} ms; cut-off jobs completed ${handBackMs} ms after the new worker started)\n`);
  });
});
