import { expect } from 'chai';
import { freePort } from '../../harness/service-env';
import { createOrganization, waitForStatus } from '../support/organizations';
import { startStack, type TestStack } from '../support/stack';

describe('Worker metrics', () => {
  let stack: TestStack;
  let port: number;
  before(async () => {
    stack = await startStack();
    port = await freePort();
    await stack.startWorker({}, { WORKER_METRICS_PORT: String(port) });
  });
  after(() => stack.stop());

  it('when an organization was provisioned, then the worker port shows pipeline step durations, processed jobs, sweeps, orphans, the failure counters (from 0) and process metrics', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const step of ['create_database', 'database_role', 'migrate', 'seed_admin', 'activate']) {
      expect(text).to.match(new RegExp(`orgms_pipeline_step_duration_seconds_count\\{pipeline="provisioning",step="${step}",outcome="ok"\\} [1-9]`));
    }
    expect(text).to.match(/orgms_worker_jobs_total\{queue="provisioning",outcome="completed"\} [1-9]/);
    // Every sweep runs once when it is first scheduled, at worker start.
    expect(text).to.match(/orgms_sweep_duration_seconds_count\{sweep="stuck-organizations",outcome="ok"\} [1-9]/);
    expect(text).to.include('# HELP orgms_orphans');
    // Counters alerts take the increase of exist from the start (at 0 in a new worker), so the first
    // failure shows as one. Other specs of this process may have counted already: the series must exist.
    const series = (name: string) => expect(text).to.match(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} \\d+$`, 'm'));
    for (const pipeline of ['provisioning', 'move', 'purge', 'dump', 'restore', 'archive_restore']) {
      series(`orgms_pipeline_failures_total{pipeline="${pipeline}"}`);
    }
    series('orgms_worker_jobs_stalled_total{queue="provisioning"}');
    series('orgms_backups_total{outcome="failed"}');
    series('orgms_backup_restore_tests_total{outcome="passed"}');
    expect(text).to.include('process_resident_memory_bytes');
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).to.equal(200);
  });
});
