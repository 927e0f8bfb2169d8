import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS, jobIds } from '@orgms/common/queues/registry';
import type { Queue } from 'bullmq';
import { expect } from 'chai';
import { auth, createActiveOrganization } from './support/org-users';
import { createOrganization, waitForStatus } from './support/organizations';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';

async function exportStatus(stack: TestStack, orgId: string, exportId: string): Promise<string> {
  const res = await stack.request
    .get(`/organizations/${orgId}/exports/${exportId}`)
    .set(auth(await stack.adminToken()))
    .expect(200);
  return res.body.status as string;
}

async function waitForExport(stack: TestStack, orgId: string, exportId: string, status: string, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await exportStatus(stack, orgId, exportId)) !== status) {
    if (Date.now() > deadline) throw new Error(`export ${exportId} did not become ${status}`);
    await sleep(100);
  }
}

describe('Fair work: tenant-triggered jobs on their own queue', function () {
  this.timeout(120000);
  let stack: TestStack;
  let open: () => void = () => undefined;
  let gate = Promise.resolve();
  const closeGate = () => {
    gate = new Promise<void>((resolve) => (open = resolve));
  };

  before(async () => {
    // One provisioning slot and one tenant-work slot: an export held at the gate fills the tenant-work one.
    stack = await startStack({ worker: { beforeExportStep: () => gate }, env: { WORKER_CONCURRENCY: '1', TENANT_WORK_CONCURRENCY: '1' } });
  });

  after(async () => {
    open();
    await stack?.stop();
  });

  it('when exports run and wait (TENANT_WORK_CONCURRENCY=1), then their jobs are on the tenant-work queue and a new organization still becomes active promptly', async () => {
    const orgs = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    closeGate();
    const admin = await stack.adminToken();
    const exportIds: string[] = [];
    for (const org of orgs) exportIds.push((await stack.request.post(`/organizations/${org.id}/exports`).set(auth(admin)).expect(202)).body.id);
    await waitForExport(stack, orgs[0].id, exportIds[0], 'running');

    const started = Date.now();
    const created = await createOrganization(stack);
    await waitForStatus(stack, created.id, ['active'], 15000);
    const ms = Date.now() - started;

    const tenantWork = stack.api.queues.tenantWork as Queue;
    const provisioning = stack.api.queues.provisioning as Queue;
    const states = await Promise.all(exportIds.map(async (id) => (await tenantWork.getJob(jobIds.export(id)))?.getState()));
    expect(states, 'one export runs, the other waits behind it, both on tenant-work').to.have.members(['active', 'waiting']);
    for (const id of exportIds) expect(await provisioning.getJob(jobIds.export(id))).to.equal(undefined);
    expect(await provisioning.getJob(jobIds.provision(created.id))).to.not.equal(undefined);
    expect(await exportStatus(stack, orgs[1].id, exportIds[1]), 'the second export still waits').to.equal('queued');
    console.log(`      a new organization became active in ${ms} ms while the tenant-work queue was busy`);

    open();
    await Promise.all(orgs.map((org, i) => waitForExport(stack, org.id, exportIds[i], 'ready')));
  });

  it('when an export job waits on the provisioning queue (added before an upgrade), then it is handed to the tenant-work queue under its own id and the export becomes ready', async () => {
    const org = await createActiveOrganization(stack);
    const recorded = await stack.api.stores.organizationDumps.create('export', org.id, 'before-the-upgrade');
    const provisioning = stack.api.queues.provisioning as Queue;
    await provisioning.add(JOBS.export, { exportId: recorded.id, orgId: org.id, requestId: 'before-the-upgrade' }, { jobId: jobIds.export(recorded.id) });
    await waitForExport(stack, org.id, recorded.id, 'ready');
    const moved = await (stack.api.queues.tenantWork as Queue).getJob(jobIds.export(recorded.id));
    expect(moved?.name).to.equal(JOBS.export);
    expect(await moved?.getState()).to.equal('completed');
  });

  it('when a platform admin opens Bull Board, then the tenant-work queue is listed beside provisioning', async () => {
    const basic = `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}`;
    const res = await stack.request.get('/admin/queues/api/queues').set('Authorization', basic).expect(200);
    const names = (res.body.queues as { name: string }[]).map((queue) => queue.name);
    expect(names).to.include.members(['provisioning', 'tenant-work']);
  });
});
