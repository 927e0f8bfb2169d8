import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '@orgms/common/data-safety/file-hash';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, pgQuery, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

interface BackupRow {
  id: string;
  status: string;
  error: string | null;
  file_name: string | null;
  size_bytes: string | null;
  sha256: string | null;
}

async function backupRow(fe: ServiceEnv, id: string): Promise<BackupRow> {
  const [row] = await controlQuery<BackupRow & Record<string, unknown>>(
    fe,
    `SELECT id, status, error, file_name, size_bytes, sha256 FROM organization_dumps WHERE kind = 'backup' AND id = $1`,
    [id],
  );
  return row;
}

/**
 * BACKUP_DIR is a 256 kB tmpfs: a new organization's backup fits, the one taken after 20,000
 * users were added (about 0.5 MB) does not, so its pg_dump stream meets ENOSPC at the file write.
 */
describe('Fault: a full backup disk', function () {
  this.timeout(120000);
  let fe: ServiceEnv | undefined;
  let dir: string | undefined;
  let mounted = false;

  afterEach(async function () {
    await endFaultTest(this.currentTest, fe);
    if (mounted) execFileSync('umount', [dir as string]);
    mounted = false;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('when BACKUP_DIR is full, then the backup fails loudly (failed with the reason, an error log line), leaves no partial file and keeps the older verified backup', async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgms-backups-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    mounted = true;
    fe = await isolatedServiceEnv({ BACKUP_DIR: dir, PROVISION_ATTEMPTS: '2' });
    await startApi(fe);
    const worker = await startWorker(fe, {}, 'worker');
    const api = new ApiClient(fe.baseUrl);
    const created = await api.createOrganization(`Full Backup Disk ${fe.id}`);
    const orgId = created.body.id as string;
    await waitForStatuses(fe, [orgId], ['active'], 30000);

    const older = await api.request('POST', `/organizations/${orgId}/backups`);
    expect(older.status, JSON.stringify(older.body)).to.equal(202);
    await waitUntil(
      async () => (await backupRow(fe as ServiceEnv, older.body.id)).status === 'verified' || undefined,
      30000,
      'the first backup to be verified',
      100,
    );
    const kept = await backupRow(fe, older.body.id);

    await pgQuery(
      `INSERT INTO users (id, email, password_hash, role)
       SELECT gen_random_uuid(), 'user' || n || '@example.test', '$2b$04$' || md5(n::text), 'member' FROM generate_series(1, 20000) AS n`,
      [],
      databaseNameFor(orgId, fe.orgPrefix),
    );
    const full = await api.request('POST', `/organizations/${orgId}/backups`);
    expect(full.status, JSON.stringify(full.body)).to.equal(202);
    await waitUntil(async () => (await backupRow(fe as ServiceEnv, full.body.id)).status === 'failed' || undefined, 60000, 'the backup to fail', 100);

    const failed = await backupRow(fe, full.body.id);
    expect(failed.error).to.include('no space left on the disk (ENOSPC)');
    expect(failed.file_name, 'no file is recorded').to.equal(null);
    expect((await api.request('GET', `/organizations/${orgId}/backups/${full.body.id}`)).body.status).to.equal('failed');
    expect(
      worker.count((line) => line.level === 'error' && line.message === 'dump step failed'),
      'an error log line per attempt',
    ).to.equal(2);
    expect(readdirSync(dir), 'nothing partial is left, only the older backup').to.deep.equal([kept.file_name]);
    const onDisk = await hashFile(join(dir, kept.file_name as string));
    expect(onDisk, 'the older backup is intact').to.deep.equal({ sha256: kept.sha256, sizeBytes: Number(kept.size_bytes) });
    expect((await backupRow(fe, older.body.id)).status, 'the older backup is still verified').to.equal('verified');
  });
});
