import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { createControlDataSource } from '@orgms/common/database/control-data-source';
import { withDatabase } from '@orgms/common/database/database-urls';
import { SWEEPS } from '@orgms/common/queues/registry';
import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { OrganizationDumpsService } from '@orgms/worker/data-safety/organization-dumps.service';
import { expect } from 'chai';
import type { Response } from 'supertest';
import { ManualClock } from './support/manual-clock';
import { withClient } from './support/org-databases';
import { auth, createActiveOrganization, orgLogin, queryOrgDatabase } from './support/org-users';
import { type CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** Reads a binary answer into a Buffer. */
function binary(res: Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function requestExport(stack: TestStack, orgId: string, token: string): Promise<string> {
  const res = await stack.request.post(`/organizations/${orgId}/exports`).set(auth(token)).expect(202);
  expect(res.headers.location).to.equal(`/organizations/${orgId}/exports/${res.body.id}`);
  expect(res.body).to.include({ organization_id: orgId, status: 'queued', size_bytes: null, sha256: null });
  return res.body.id as string;
}

async function waitReady(stack: TestStack, orgId: string, exportId: string, token: string, timeoutMs = 60000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await stack.request.get(`/organizations/${orgId}/exports/${exportId}`).set(auth(token)).expect(200);
    if (res.body.status === 'ready' || res.body.status === 'failed') return res.body;
    expect(res.headers['retry-after']).to.equal('2');
    if (Date.now() > deadline) throw new Error(`export still ${res.body.status}`);
    await sleep(100);
  }
}

async function addUsers(stack: TestStack, orgId: string, count: number): Promise<void> {
  await queryOrgDatabase(
    stack,
    orgId,
    `INSERT INTO users (id, email, password_hash, role) SELECT gen_random_uuid(), 'bulk' || n || '@example.test', 'x', 'member' FROM generate_series(1, $1) n`,
    [count],
  );
}

describe('Organization exports', function () {
  this.timeout(120000);
  let stack: TestStack;
  let dir: string;
  let orgA: CreatedOrg;
  let orgB: CreatedOrg;
  let tokenA: string;
  let tokenB: string;
  let admin: string;
  const clock = new ManualClock();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgms-exports-'));
    stack = await startStack({ worker: true, env: { EXPORT_DIR: dir }, clock });
    admin = await stack.adminToken();
    [orgA, orgB] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    tokenA = await orgLogin(stack, orgA.id, orgA.email, orgA.password);
    tokenB = await orgLogin(stack, orgB.id, orgB.email, orgB.password);
    for (const n of [1, 2, 3]) {
      await stack.request
        .post(`/organizations/${orgA.id}/users`)
        .set(auth(tokenA))
        .send({ email: `user${n}@a.test`, password: 'correct horse battery', role: 'member' })
        .expect(201);
    }
  });

  after(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when an organization is exported, then the export becomes ready, downloads with a matching SHA-256, and pg_restore restores the same users', async () => {
    const exportId = await requestExport(stack, orgA.id, tokenA);
    const ready = await waitReady(stack, orgA.id, exportId, tokenA);
    expect(ready.status).to.equal('ready');
    expect(ready.size_bytes).to.be.a('number').above(0);
    expect(existsSync(join(dir, `${orgA.id}-${exportId}.dump`))).to.equal(true);

    const res = await stack.request.get(`/organizations/${orgA.id}/exports/${exportId}/download`).set(auth(tokenA)).buffer(true).parse(binary).expect(200);
    const bytes = res.body as Buffer;
    expect(res.headers['content-type']).to.equal('application/octet-stream');
    expect(Number(res.headers['content-length'])).to.equal(bytes.length).and.to.equal(ready.size_bytes);
    expect(res.headers['content-disposition']).to.match(/^attachment; filename="[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.dump"$/);
    const digest = createHash('sha256').update(bytes).digest();
    expect(res.headers['repr-digest']).to.equal(`sha-256=:${digest.toString('base64')}:`);
    expect(digest.toString('hex')).to.equal(ready.sha256);

    const file = join(dir, 'downloaded.dump');
    writeFileSync(file, bytes);
    const listed = await run('pg_restore', ['--list', file]);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include('TABLE public users');

    const scratch = `t${stack.id}_scratch_restore`;
    await withClient(stack, (c) => c.query(`CREATE DATABASE ${quoteIdent(scratch)}`));
    const restored = await run('pg_restore', ['--no-owner', '--no-acl', '--exit-on-error', '-d', withDatabase(stack.config.tenancy.serverUrl, scratch), file]);
    expect(restored.code, restored.stderr).to.equal(0);
    const [original] = await queryOrgDatabase<{ n: number }>(stack, orgA.id, 'SELECT count(*)::int AS n FROM users');
    const copy = await withClient(stack, async (c) => (await c.query('SELECT count(*)::int AS n FROM users')).rows[0].n, scratch);
    expect(original.n).to.equal(4);
    expect(copy).to.equal(original.n);
  });

  it('when a token of organization A asks for organization B exports, then it is a 404 (create, read, download), and a member asking is a 403', async () => {
    const exportOfB = await requestExport(stack, orgB.id, tokenB);
    await waitReady(stack, orgB.id, exportOfB, tokenB);
    await stack.request.post(`/organizations/${orgB.id}/exports`).set(auth(tokenA)).expect(404);
    await stack.request.get(`/organizations/${orgB.id}/exports/${exportOfB}`).set(auth(tokenA)).expect(404);
    await stack.request.get(`/organizations/${orgB.id}/exports/${exportOfB}/download`).set(auth(tokenA)).expect(404);
    // B's export id under A's organization: never found, even for a platform admin.
    await stack.request.get(`/organizations/${orgA.id}/exports/${exportOfB}`).set(auth(tokenA)).expect(404);
    await stack.request.get(`/organizations/${orgA.id}/exports/${exportOfB}/download`).set(auth(tokenA)).expect(404);
    await stack.request.get(`/organizations/${orgA.id}/exports/${exportOfB}/download`).set(auth(admin)).expect(404);
    // Platform admins may export any organization (waited for: one export per organization at a time).
    await waitReady(stack, orgB.id, await requestExport(stack, orgB.id, admin), admin);

    const member = await orgLogin(stack, orgA.id, 'user1@a.test', 'correct horse battery');
    await stack.request.post(`/organizations/${orgA.id}/exports`).set(auth(member)).expect(403);
    await stack.request.get(`/organizations/${orgA.id}/exports/${exportOfB}`).set(auth(member)).expect(403);
  });

  it('when an export is not ready, then its download is a 409 with the export status, and ids that are not uuids are a 400', async () => {
    const id = randomUUID();
    await stack.api.stores.organizationDumps.create('export', orgA.id, 'spec').then(async (created) => {
      // A queued export whose job is not picked up yet (created straight in the store).
      const res = await stack.request.get(`/organizations/${orgA.id}/exports/${created.id}/download`).set(auth(tokenA)).expect(409);
      expect(res.body.export_status).to.equal('queued');
      // Out of the way of the organization's next export (one at a time).
      await stack.api.stores.organizationDumps.fail('export', orgA.id, created.id, 'spec: never run');
    });
    await stack.request.get(`/organizations/${orgA.id}/exports/${id}`).set(auth(tokenA)).expect(404);
    await stack.request.get(`/organizations/${orgA.id}/exports/not-a-uuid`).set(auth(tokenA)).expect(400);
    await stack.request.get(`/organizations/${orgA.id}/exports/not-a-uuid/download`).set(auth(tokenA)).expect(400);
    await stack.request.post('/organizations/not-a-uuid/exports').set(auth(admin)).expect(400);
  });

  it('when an export was recorded but its job was lost (Redis flushed before a worker took it), then the lost-exports sweep asks for it again and it becomes ready, once', async () => {
    // What the API leaves behind when Redis loses the job: the row, and no job.
    const exportId = (await stack.api.stores.organizationDumps.create('export', orgA.id, `lost-${randomUUID()}`)).id;
    clock.advance(stack.config.worker.reconcile.stuckAfterMs + 1000);
    const lostExports = (stack.worker as NonNullable<TestStack['worker']>).sweeps[SWEEPS.lostExports];
    const report = await lostExports.run();
    expect(report.resumed).to.include(exportId);
    const ready = await waitReady(stack, orgA.id, exportId, tokenA);
    expect(ready.status).to.equal('ready');
    // Done (or still running): the next pass leaves it alone.
    expect((await lostExports.run()).resumed).to.not.include(exportId);
    expect(readdirSync(dir).filter((name) => name.includes(exportId))).to.deep.equal([`${orgA.id}-${exportId}.dump`]);
  });

  it('when an organization has 10,000 users, then its export completes (size and time printed)', async () => {
    await addUsers(stack, orgB.id, 10000);
    const started = Date.now();
    const exportId = await requestExport(stack, orgB.id, tokenB);
    const ready = await waitReady(stack, orgB.id, exportId, tokenB);
    const ms = Date.now() - started;
    expect(ready.status).to.equal('ready');
    console.log(`      export of 10,001 users: ${ready.size_bytes} bytes in ${ms} ms (request to ready, polling every 100 ms)`);
  });

  it('when the export job runs twice (a stalled job run again), then it converges: one file, its recorded size and SHA-256, no partial file left', async () => {
    const exportId = await requestExport(stack, orgA.id, tokenA);
    await waitReady(stack, orgA.id, exportId, tokenA);
    const controlDb = await createControlDataSource(stack.config.database, 1).initialize();
    try {
      const service = new OrganizationDumpsService({
        store: stack.api.stores.organizations,
        dumps: new OrganizationDumpStore(controlDb),
        servers: (stack.worker ?? expect.fail('this suite runs a worker')).servers,
        logger: stack.logger,
        kinds: { export: { dir, ttlMs: () => stack.config.exports.ttlMs }, backup: { dir: stack.config.backups.dir, ttlMs: () => null } },
      });
      expect(await service.dump('export', orgA.id, exportId, { requestId: 'run-twice', isLastAttempt: false })).to.equal('dumped');
      expect(await service.dump('export', orgA.id, exportId, { requestId: 'run-twice', isLastAttempt: false })).to.equal('dumped');
    } finally {
      await controlDb.destroy();
    }
    const after = await stack.request.get(`/organizations/${orgA.id}/exports/${exportId}`).set(auth(tokenA)).expect(200);
    expect(after.body.status).to.equal('ready');
    const files = readdirSync(dir).filter((name) => name.includes(exportId));
    expect(files, 'one file, no partial one').to.have.length(1);
    const bytes = readFileSync(join(dir, files[0]));
    expect(bytes.length).to.equal(after.body.size_bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).to.equal(after.body.sha256);
  });
});

describe('Organization exports: expiry', function () {
  this.timeout(60000);
  let stack: TestStack;
  let dir: string;
  const clock = new ManualClock();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgms-exports-'));
    stack = await startStack({ worker: true, env: { EXPORT_DIR: dir }, clock });
  });

  after(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when an export has expired, then its download is a 410, and the expired-exports sweep deletes its file and marks it expired', async () => {
    const org = await createActiveOrganization(stack);
    let token = await orgLogin(stack, org.id, org.email, org.password);
    const exportId = await requestExport(stack, org.id, token);
    await waitReady(stack, org.id, exportId, token).catch(() => undefined);
    const file = join(dir, `${org.id}-${exportId}.dump`);
    expect(existsSync(file)).to.equal(true);
    await stack.request.get(`/organizations/${org.id}/exports/${exportId}/download`).set(auth(token)).expect(200);
    clock.advance(stack.config.exports.ttlMs);
    // A day later the access token has expired too: the admin logs in again.
    token = await orgLogin(stack, org.id, org.email, org.password);
    await stack.request.get(`/organizations/${org.id}/exports/${exportId}/download`).set(auth(token)).expect(410);
    await (stack.worker as NonNullable<TestStack['worker']>).sweeps[SWEEPS.expiredExports].run();
    expect(existsSync(file)).to.equal(false);
    const res = await stack.request.get(`/organizations/${org.id}/exports/${exportId}`).set(auth(token)).expect(200);
    expect(res.body.status).to.equal('expired');
    expect(res.headers['retry-after']).to.equal(undefined);
    await stack.request.get(`/organizations/${org.id}/exports/${exportId}/download`).set(auth(token)).expect(410);
  });
});
