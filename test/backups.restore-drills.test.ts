import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SWEEPS } from '@orgms/common/queues/registry';
import { drillDatabaseName } from '@orgms/worker/data-safety/restore-drills';
import { backupRestoreTests } from '@orgms/worker/metrics';
import { expect } from 'chai';
import { verifiedBackup } from './support/backups';
import { queryControlDatabase } from './support/control-database';
import { withClient } from './support/org-databases';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

async function verifiedBackupFile(stack: TestStack, org: CreatedOrg): Promise<{ id: string; fileName: string }> {
  const token = await orgLogin(stack, org.id, org.email, org.password);
  const id = await verifiedBackup(stack, org.id, token);
  const [row] = await queryControlDatabase<{ fileName: string }>(stack, `SELECT file_name AS "fileName" FROM organization_dumps WHERE id = $1`, [id]);
  return { id, fileName: row.fileName };
}

async function drillCount(outcome: string): Promise<number> {
  return (await backupRestoreTests.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

describe('Backups: restore drills', function () {
  this.timeout(120000);
  let stack: TestStack;
  let good: CreatedOrg;
  let damaged: CreatedOrg;

  before(async () => {
    stack = await startStack({ worker: true });
    [good, damaged] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
  });

  after(async () => {
    await stack?.stop();
  });

  const drills = () => (stack.worker ?? expect.fail('this suite runs a worker')).sweeps[SWEEPS.restoreDrills];

  it('when a good backup is drilled, then it is restored into a scratch database, its row counts match the manifest, the scratch database is gone and restore_tested_at is set', async () => {
    const backup = await verifiedBackupFile(stack, good);
    const passedBefore = await drillCount('passed');
    const report = await drills().run();
    expect(report.passed).to.include(backup.id);
    expect(report.failed).to.deep.equal([]);
    expect(await drillCount('passed')).to.equal(passedBefore + 1);
    const token = await orgLogin(stack, good.id, good.email, good.password);
    const { body } = await stack.request.get(`/organizations/${good.id}/backups/${backup.id}`).set(auth(token)).expect(200);
    expect(body.restore_tested_at).to.be.a('string');
    const { databaseName } = await stack.api.stores.organizations.get(good.id);
    const scratch = await withClient(
      stack,
      async (c) => (await c.query('SELECT datname FROM pg_database WHERE datname = $1', [drillDatabaseName(databaseName)])).rows,
    );
    expect(scratch).to.deep.equal([]);
    expect((await drills().run()).passed, 'a proved backup is not drilled again').to.not.include(backup.id);
  });

  it('when a backup file is damaged (bytes flipped), then the drill reports it: failed, an error log line, the metric and the backup.restore_test_failed event (webhook, audit), once', async () => {
    const backup = await verifiedBackupFile(stack, damaged);
    const path = join(stack.config.backups.dir, backup.fileName);
    const fd = openSync(path, 'r+');
    const bytes = Buffer.alloc(16);
    readSync(fd, bytes, 0, 16, 200);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] ^= 0xff;
    writeSync(fd, bytes, 0, 16, 200);
    closeSync(fd);
    const failedBefore = await drillCount('failed');
    const report = await drills().run();
    expect(report.failed).to.deep.equal([backup.id]);
    expect(await drillCount('failed')).to.equal(failedBefore + 1);
    const events = await queryControlDatabase<{ detail: string }>(
      stack,
      `SELECT detail FROM organization_events WHERE org_id = $1 AND step = 'restore_test_failed'`,
      [damaged.id],
    );
    expect(events).to.have.length(1);
    expect(events[0].detail)
      .to.include(backup.id)
      .and.to.match(/SHA-256|pg_restore/);
    const audit = await queryControlDatabase(stack, `SELECT 1 FROM audit_log WHERE org_id = $1 AND action = 'backup.restore_test_failed'`, [damaged.id]);
    expect(audit).to.have.length(1);
    expect((await drills().run()).failed, 'reported once').to.deep.equal([]);
    expect(readdirSync(stack.config.backups.dir).filter((name) => name.endsWith('.partial'))).to.deep.equal([]);
  });
});
