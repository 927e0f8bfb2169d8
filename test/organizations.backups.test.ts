import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SWEEPS } from '@orgms/common/queues/registry';
import { backupsMade } from '@orgms/worker/metrics';
import { expect } from 'chai';
import { backupEnded } from './support/backups';
import { queryControlDatabase } from './support/control-database';
import { ManualClock } from './support/manual-clock';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

const DAY = 24 * 3600 * 1000;

describe('Organization backups', function () {
  this.timeout(120000);
  let stack: TestStack;
  let orgA: CreatedOrg;
  let orgB: CreatedOrg;
  let tokenA: string;
  let tokenB: string;
  let admin: string;
  const clock = new ManualClock(new Date('2026-12-06T12:00:00.000Z'));

  before(async () => {
    stack = await startStack({ worker: true, clock });
    admin = await stack.adminToken();
    [orgA, orgB] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    tokenA = await orgLogin(stack, orgA.id, orgA.email, orgA.password);
    tokenB = await orgLogin(stack, orgB.id, orgB.email, orgB.password);
    for (const n of [1, 2]) {
      await stack.request
        .post(`/organizations/${orgA.id}/users`)
        .set(auth(tokenA))
        .send({ email: `user${n}@a.test`, password: 'correct horse battery', role: 'member' })
        .expect(201);
    }
  });

  after(async () => {
    await stack?.stop();
  });

  it('when an admin asks for a backup, then it becomes verified with a manifest of its row counts and the SHA-256 and size of the file on disk, and orgms_backups_total counts it', async () => {
    const verifiedBackups = async () => (await backupsMade.get()).values.find((v) => v.labels.outcome === 'verified')?.value ?? 0;
    const verifiedBefore = await verifiedBackups();
    const res = await stack.request.post(`/organizations/${orgA.id}/backups`).set(auth(tokenA)).expect(202);
    expect(res.headers.location).to.equal(`/organizations/${orgA.id}/backups/${res.body.id}`);
    expect(res.body).to.include({ organization_id: orgA.id, kind: 'manual', status: 'queued', sha256: null, restore_tested_at: null });
    const backup = await backupEnded(stack, orgA.id, res.body.id, tokenA);
    expect(backup.status).to.equal('verified');
    expect(backup.expires_at).to.equal(new Date(clock.now().getTime() + stack.config.backups.manualTtlMs).toISOString());
    const [row] = await queryControlDatabase<{ fileName: string; manifest: Record<string, number> }>(
      stack,
      `SELECT file_name AS "fileName", manifest FROM organization_dumps WHERE id = $1 AND kind = 'backup'`,
      [backup.id],
    );
    expect(row.manifest['public.users']).to.equal(3);
    expect(row.manifest).to.have.property('public.tenant_migrations');
    const bytes = readFileSync(join(stack.config.backups.dir, row.fileName));
    expect(bytes.length).to.equal(backup.size_bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).to.equal(backup.sha256);
    expect(await verifiedBackups()).to.equal(verifiedBefore + 1);
  });

  it('when the backups are listed or read, then their admins and platform admins see them; another organization gets 404 and a member 403', async () => {
    const [backup] = (await stack.request.get(`/organizations/${orgA.id}/backups`).set(auth(tokenA)).expect(200)).body.items;
    expect(backup.organization_id).to.equal(orgA.id);
    const page = await stack.request.get(`/organizations/${orgA.id}/backups?limit=1`).set(auth(admin)).expect(200);
    expect(page.body.items.map((b: { id: string }) => b.id)).to.deep.equal([backup.id]);
    await stack.request.get(`/organizations/${orgA.id}/backups/${backup.id}`).set(auth(admin)).expect(200);
    await stack.request.get(`/organizations/${orgA.id}/backups`).set(auth(tokenB)).expect(404);
    await stack.request.get(`/organizations/${orgA.id}/backups/${backup.id}`).set(auth(tokenB)).expect(404);
    await stack.request.post(`/organizations/${orgA.id}/backups`).set(auth(tokenB)).expect(404);
    await stack.request.get(`/organizations/${orgB.id}/backups/${backup.id}`).set(auth(tokenB)).expect(404);
    const member = await orgLogin(stack, orgA.id, 'user1@a.test', 'correct horse battery');
    await stack.request.get(`/organizations/${orgA.id}/backups`).set(auth(member)).expect(403);
    await stack.request.get(`/organizations/${orgA.id}/backups/${backup.id}`).set(auth(member)).expect(403);
    await stack.request.post(`/organizations/${orgA.id}/backups`).set(auth(member)).expect(403);
    await stack.request.get(`/organizations/${orgA.id}/backups/${randomUUID()}`).set(auth(tokenA)).expect(404);
  });

  it("when the clock passes each organization's slot, then the backups sweep asks for one scheduled backup of each on the tenant-work queue, once; new organizations wait for their slot", async () => {
    const sweeps = (stack.worker ?? expect.fail('this suite runs a worker')).sweeps;
    expect((await sweeps[SWEEPS.backups].run()).scheduled, 'new organizations are backed up at their first slot, not at once').to.deep.equal([]);
    // Past a whole interval from their creation, each organization's slot has come.
    clock.set(new Date(Date.now() + 2 * DAY));
    const report = await sweeps[SWEEPS.backups].run();
    expect(report.scheduled).to.have.length(2);
    const again = await sweeps[SWEEPS.backups].run();
    expect(again.scheduled, 'their backups are open or done').to.deep.equal([]);
    for (const id of report.scheduled) {
      const [{ orgId }] = await queryControlDatabase<{ orgId: string }>(stack, `SELECT org_id AS "orgId" FROM organization_dumps WHERE id = $1`, [id]);
      // Days later by the suite's clock: the platform admin signs in again.
      const done = await backupEnded(stack, orgId, id, await stack.adminToken());
      expect(done).to.include({ kind: 'scheduled', status: 'verified', expires_at: null });
    }
  });

  it('when the clock passes 40 days of daily backups, then retention keeps 7 daily and 4 weekly ones, expires the others and the manual one past its time, and deletes their files', async () => {
    const dumps = stack.api.stores.organizationDumps;
    const start = clock.now().getTime();
    const ids: string[] = [];
    for (let day = 1; day <= 40; day += 1) {
      clock.set(new Date(start + day * DAY));
      const backup = await dumps.create('backup', orgB.id, `retention-${day}`, 'scheduled');
      const fileName = `${orgB.id}-${backup.id}.dump`;
      writeFileSync(join(stack.config.backups.dir, fileName), 'spec');
      await dumps.recordFile('backup', orgB.id, backup.id, { fileName, sizeBytes: 4, sha256: '0'.repeat(64), manifest: {} });
      await dumps.markVerified(backup.id, null);
      ids.push(backup.id);
    }
    const sweeps = (stack.worker ?? expect.fail('this suite runs a worker')).sweeps;
    await sweeps[SWEEPS.expiredBackups].run();
    const rows = await queryControlDatabase<{ id: string; status: string; kind: string; fileName: string }>(
      stack,
      `SELECT id, status, backup_kind AS kind, file_name AS "fileName" FROM organization_dumps WHERE org_id = ANY($1::uuid[]) AND kind = 'backup'`,
      [[orgA.id, orgB.id]],
    );
    const spec = rows.filter((row) => ids.includes(row.id));
    const kept = spec.filter((row) => row.status === 'verified');
    expect(kept).to.have.length(11);
    expect(kept.map((row) => row.id)).to.include.members(ids.slice(-7));
    for (const row of spec) expect(existsSync(join(stack.config.backups.dir, row.fileName)), row.status).to.equal(row.status === 'verified');
    const manual = rows.filter((row) => row.kind === 'manual');
    expect(manual.map((row) => row.status)).to.deep.equal(['expired']);
  });
});
