import { databaseNameFor, markerFor, quoteIdent, stagingNameFor } from '@orgms/common/tenancy/database-names';
import { DatabaseAdmin } from '@orgms/worker/tenancy/database-admin';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** Runs SQL on the server's maintenance database (outside any transaction, as CREATE DATABASE needs). */
async function onServer(stack: TestStack, sql: string): Promise<void> {
  const client = new Client({ connectionString: stack.config.tenancy.serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function events(stack: TestStack, orgId: string): Promise<{ to_status: string; step: string | null; detail: string | null }[]> {
  return queryControlDatabase(stack, 'SELECT to_status, step, detail FROM organization_events WHERE org_id = $1 ORDER BY id', [orgId]);
}

describe('Provisioning an organization', () => {
  let stack: TestStack;
  /** Steps to fail once, keyed by org id; consumed when thrown. */
  const failOnce = new Map<string, string>();
  /** Orgs whose every attempt fails at migrate with a transient error. */
  const alwaysFail = new Set<string>();

  before(async () => {
    stack = await startStack({
      env: { PROVISION_ATTEMPTS: '3' },
      worker: {
        beforeStep: (step, orgId) => {
          if (failOnce.get(orgId) === step) {
            failOnce.delete(orgId);
            throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
          }
          if (alwaysFail.has(orgId) && step === 'migrate') throw Object.assign(new Error('server closed the connection'), { code: '57P01' });
        },
      },
    });
  });
  after(() => stack.stop());

  for (const step of ['create_database', 'database_role', 'migrate', 'seed_admin', 'activate']) {
    it(`when the ${step} step fails once, then the job is retried and the organization converges to active`, async () => {
      const token = await stack.adminToken();
      // Arm the failure before the worker can pick the job up: pause, create, arm, resume.
      await stack.worker?.provisioningWorker.pause();
      const org = await createOrganization(stack);
      failOnce.set(org.id, step);
      stack.worker?.provisioningWorker.resume();
      const status = await waitForStatus(stack, org.id, ['active', 'failed']);
      expect(status).to.include({ status: 'active', attempts: 2 });
      expect(failOnce.has(org.id), 'the failure was injected').to.equal(false);
      const trail = await events(stack, org.id);
      expect(trail.some((e) => e.detail?.startsWith('will retry'))).to.equal(true);
      const users = await stack.request.get(`/organizations/${org.id}`).set('Authorization', `Bearer ${token}`).expect(200);
      expect(users.body.last_error).to.equal(null);
    });
  }

  it('when a marked database already exists from a crashed attempt, then it is adopted, not recreated', async () => {
    await stack.worker?.provisioningWorker.pause();
    const org = await createOrganization(stack);
    const name = databaseNameFor(org.id, stack.config.tenancy.databasePrefix);
    // Simulate the crash: the database was created and marked, nothing else happened.
    await onServer(stack, `CREATE DATABASE ${quoteIdent(name)}`);
    await onServer(stack, `COMMENT ON DATABASE ${quoteIdent(name)} IS '${markerFor(org.id)}'`);
    await onServer(stack, `CREATE DATABASE ${quoteIdent(stagingNameFor(name))}`); // and a stray staging copy
    stack.worker?.provisioningWorker.resume();
    expect((await waitForStatus(stack, org.id, ['active', 'failed'])).status).to.equal('active');
    expect((await events(stack, org.id)).map((e) => e.step)).to.include('create_database');
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      expect(await admin.markerOf(name)).to.equal(markerFor(org.id));
    } finally {
      await admin.close();
    }
  });

  it('when a leftover staging database exists, then it is dropped and the organization still converges', async () => {
    await stack.worker?.provisioningWorker.pause();
    const org = await createOrganization(stack);
    const name = databaseNameFor(org.id, stack.config.tenancy.databasePrefix);
    await onServer(stack, `CREATE DATABASE ${quoteIdent(stagingNameFor(name))}`);
    stack.worker?.provisioningWorker.resume();
    expect((await waitForStatus(stack, org.id, ['active', 'failed'])).status).to.equal('active');
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      expect(await admin.markerOf(stagingNameFor(name))).to.equal(undefined);
    } finally {
      await admin.close();
    }
  });

  it('when a foreign database occupies the name, then provisioning fails at once (no retries) with a readable reason', async () => {
    await stack.worker?.provisioningWorker.pause();
    const org = await createOrganization(stack);
    const name = databaseNameFor(org.id, stack.config.tenancy.databasePrefix);
    await onServer(stack, `CREATE DATABASE ${quoteIdent(name)}`); // unmarked: not ours
    stack.worker?.provisioningWorker.resume();
    const status = await waitForStatus(stack, org.id, ['active', 'failed']);
    expect(status).to.include({ status: 'failed', attempts: 1 });
    expect(status.last_error).to.equal(`create_database: a database named ${name} already exists and does not belong to this organization`);
    const res = await stack.request
      .get(`/organizations/${org.id}`)
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(res.body.last_error).to.not.match(/SELECT|INSERT|at .*\.ts/);
  });

  it('when every attempt fails transiently, then after the last attempt the organization is failed with the reason', async () => {
    await stack.worker?.provisioningWorker.pause();
    const org = await createOrganization(stack);
    alwaysFail.add(org.id);
    stack.worker?.provisioningWorker.resume();
    const status = await waitForStatus(stack, org.id, ['failed', 'active']);
    expect(status).to.include({ status: 'failed', attempts: 3, last_error: 'migrate: PostgreSQL was unavailable (SQLSTATE 57P01)' });
    const trail = await events(stack, org.id);
    expect(trail.filter((e) => e.to_status === 'failed')).to.have.length(1);
  });

  it('when the same provision job runs twice, then the second run changes nothing', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    const before = await events(stack, org.id);
    const worker = stack.worker ?? expect.fail('this suite runs a worker');
    expect(await worker.provisioning.provision(org.id, { requestId: 'again-1234', isLastAttempt: false })).to.equal('skipped');
    expect(await events(stack, org.id)).to.deep.equal(before);
  });
});
