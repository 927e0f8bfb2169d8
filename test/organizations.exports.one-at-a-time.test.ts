import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

/** Export jobs wait at this gate until the spec opens it, so an export stays `running` as long as the spec needs. */
function exportGate() {
  let open: () => void = () => undefined;
  let opened = new Promise<void>((resolve) => (open = resolve));
  return {
    beforeExportStep: () => opened,
    open: () => open(),
    close: () => {
      opened = new Promise<void>((resolve) => (open = resolve));
    },
  };
}

async function waitForStatus(stack: TestStack, orgId: string, exportId: string, token: string, status: string): Promise<void> {
  const deadline = Date.now() + 60000;
  for (;;) {
    const res = await stack.request.get(`/organizations/${orgId}/exports/${exportId}`).set(auth(token)).expect(200);
    if (res.body.status === status) return;
    if (Date.now() > deadline) throw new Error(`export still ${res.body.status}`);
    await sleep(100);
  }
}

describe('Organization exports: one at a time per organization', function () {
  this.timeout(120000);
  let stack: TestStack;
  const gate = exportGate();

  before(async () => {
    stack = await startStack({ worker: { beforeExportStep: () => gate.beforeExportStep() } });
  });

  after(async () => {
    gate.open();
    await stack?.stop();
  });

  it('when a second export is asked for while the first is queued or running, then it answers 409 naming the first (export_id, export_url), and once the first is ready a new one is accepted', async () => {
    gate.close();
    const org = await createActiveOrganization(stack);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const first = await stack.request.post(`/organizations/${org.id}/exports`).set(auth(token)).expect(202);
    const url = `/organizations/${org.id}/exports/${first.body.id}`;

    const second = await stack.request.post(`/organizations/${org.id}/exports`).set(auth(token)).expect(409);
    expect(second.headers['content-type']).to.match(/^application\/problem\+json/);
    expect(second.body).to.include({ export_id: first.body.id, export_url: url, status: 409 });
    expect(second.body.detail).to.match(/one export at a time/i);
    // Also while it runs (the job waits at the gate).
    await waitForStatus(stack, org.id, first.body.id, token, 'running');
    const third = await stack.request
      .post(`/organizations/${org.id}/exports`)
      .set(auth(await stack.adminToken()))
      .expect(409);
    expect(third.body.export_id).to.equal(first.body.id);
    const [{ n }] = await queryControlDatabase<{ n: number }>(
      stack,
      `SELECT count(*)::int AS n FROM organization_dumps WHERE kind = 'export' AND org_id = $1`,
      [org.id],
    );
    expect(n, 'the refused requests recorded nothing').to.equal(1);

    gate.open();
    await waitForStatus(stack, org.id, first.body.id, token, 'ready');
    gate.close();
    const next = await stack.request.post(`/organizations/${org.id}/exports`).set(auth(token)).expect(202);
    expect(next.body.id).to.not.equal(first.body.id);
    gate.open();
  });

  it('when five exports of one organization race, then exactly one is accepted and four answer 409 naming it; another organization is not affected', async () => {
    gate.close();
    const [org, other] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    const admin = await stack.adminToken();
    const answers = await Promise.all(Array.from({ length: 5 }, () => stack.request.post(`/organizations/${org.id}/exports`).set(auth(admin))));
    const accepted = answers.filter((res) => res.status === 202);
    const refused = answers.filter((res) => res.status === 409);
    expect(accepted, answers.map((res) => res.status).join(',')).to.have.length(1);
    expect(refused).to.have.length(4);
    for (const res of refused) expect(res.body.export_id).to.equal(accepted[0].body.id);
    await stack.request.post(`/organizations/${other.id}/exports`).set(auth(admin)).expect(202);
    gate.open();
  });
});

describe('Organization exports: the disk cap', function () {
  this.timeout(120000);
  let stack: TestStack;

  before(async () => {
    stack = await startStack({ worker: true, env: { EXPORT_DISK_LIMIT_BYTES: '1' } });
  });

  after(async () => {
    await stack?.stop();
  });

  it('when the ready exports use EXPORT_DISK_LIMIT_BYTES, then a new export answers 503 export-storage-full with Retry-After and nothing is recorded', async () => {
    const [org, other] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const first = await stack.request.post(`/organizations/${org.id}/exports`).set(auth(token)).expect(202);
    await waitForStatus(stack, org.id, first.body.id, token, 'ready');

    const before = await queryControlDatabase<{ n: number }>(stack, `SELECT count(*)::int AS n FROM organization_dumps WHERE kind = 'export'`);
    for (const orgId of [org.id, other.id]) {
      const res = await stack.request
        .post(`/organizations/${orgId}/exports`)
        .set(auth(await stack.adminToken()))
        .expect(503);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.type).to.equal('https://orgms.dev/problems/export-storage-full');
      expect(Number(res.headers['retry-after'])).to.be.a('number').above(0);
      expect(JSON.stringify(res.body)).to.not.match(/\/tmp|EXPORT_DIR|SELECT/);
    }
    const after = await queryControlDatabase<{ n: number }>(stack, `SELECT count(*)::int AS n FROM organization_dumps WHERE kind = 'export'`);
    expect(after[0].n).to.equal(before[0].n);
  });
});
