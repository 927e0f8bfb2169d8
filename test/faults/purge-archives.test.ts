import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashFile } from '@orgms/common/data-safety/file-hash';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, pgQuery, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, endFaultTest, waitForStatuses } from '../support/service-processes';

/** Gives an organization database `count` more users, so that dumping it takes a while (and some room). */
async function addUsers(fe: ServiceEnv, orgId: string, count: number): Promise<void> {
  await pgQuery(
    `INSERT INTO users (id, email, password_hash, role)
     SELECT gen_random_uuid(), 'user' || n || '@example.test', '$2b$04$' || md5(n::text), 'member' FROM generate_series(1, $1) AS n`,
    [count],
    databaseNameFor(orgId, fe.orgPrefix),
  );
}

async function databaseExists(fe: ServiceEnv, orgId: string): Promise<boolean> {
  return (await pgQuery('SELECT 1 FROM pg_database WHERE datname = $1', [databaseNameFor(orgId, fe.orgPrefix)])).length === 1;
}

interface ArchiveRow {
  org_id: string;
  file_name: string;
  status: string;
  size_bytes: string;
  sha256: string;
}

/** The organization's verified archives whose file is on disk with the recorded size and SHA-256. */
async function intactVerifiedArchives(fe: ServiceEnv, dir: string, orgId: string): Promise<ArchiveRow[]> {
  const rows = await controlQuery<ArchiveRow & Record<string, unknown>>(
    fe,
    `SELECT org_id, file_name, status, size_bytes, sha256 FROM organization_dumps WHERE kind = 'archive' AND org_id = $1 AND status = 'verified'`,
    [orgId],
  );
  const intact: ArchiveRow[] = [];
  for (const row of rows) {
    const digest = await hashFile(join(dir, row.file_name)).catch(() => undefined);
    if (digest && digest.sha256 === row.sha256 && digest.sizeBytes === Number(row.size_bytes)) intact.push(row);
  }
  return intact;
}

describe('Fault: purges never drop a database without a verified archive', function () {
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

  it('when the worker is SIGKILLed while purges archive and drop, then every organization keeps its database or a verified archive, and a new worker purges them all', async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgms-archives-'));
    fe = await isolatedServiceEnv({ ARCHIVE_DIR: dir, WORKER_CONCURRENCY: '2' });
    await startApi(fe);
    const first = await startWorker(fe, {}, 'worker-1');
    const api = new ApiClient(fe.baseUrl);
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const created = await api.createOrganization(`Purge Crash ${fe.id} ${i}`);
      expect(created.status, JSON.stringify(created.body)).to.equal(202);
      ids.push(created.body.id as string);
    }
    await waitForStatuses(fe, ids, ['active'], 30000);
    for (const id of ids) await addUsers(fe, id, 30000);

    for (const id of ids) expect((await api.request('DELETE', `/organizations/${id}?purge=true`)).status).to.equal(202);
    await waitUntil(
      async () =>
        (
          await controlQuery(
            fe as ServiceEnv,
            `SELECT 1 FROM organizations WHERE status = 'purging' AND step IN ('archive', 'verify_archive', 'drop_database')`,
          )
        ).length > 0,
      20000,
      'a purge to be archiving',
      10,
    );
    const delayMs = Math.floor(Math.random() * 400);
    await sleep(delayMs);
    first.signal('SIGKILL');
    expect((await first.exited).signal).to.equal('SIGKILL');

    // At the moment of the crash: for every organization, its database, or a verified archive.
    const atCrash = await controlQuery<{ id: string; status: string; step: string | null }>(
      fe,
      'SELECT id, status, step FROM organizations WHERE id = ANY($1::uuid[])',
      [ids],
    );
    let dropped = 0;
    for (const { id } of atCrash) {
      if (await databaseExists(fe, id)) continue;
      dropped += 1;
      expect(await intactVerifiedArchives(fe, dir, id), `organization ${id} has no database: it needs a verified archive`).to.have.length(1);
    }
    process.stdout.write(
      `      killed ${delayMs} ms into the archiving: ${atCrash.map((o) => `${o.status}/${o.step}`).join(', ')}; ${dropped} of ${ids.length} databases dropped\n`,
    );

    await startWorker(fe, {}, 'worker-2');
    await waitForStatuses(fe, ids, ['purged'], 60000);
    for (const id of ids) {
      expect(await databaseExists(fe, id), `database of ${id}`).to.equal(false);
      expect(await intactVerifiedArchives(fe, dir, id), `verified archive of ${id}`).to.have.length(1);
    }
    expect(readdirSync(dir).filter((name) => name.endsWith('.partial'))).to.deep.equal([]);
  });

  it('when ARCHIVE_DIR is full, then the purge fails loudly (last_error, failed job, error log) and keeps the database; with room again, it completes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'orgms-archives-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
    mounted = true;
    fe = await isolatedServiceEnv({ ARCHIVE_DIR: dir, PROVISION_ATTEMPTS: '2' });
    await startApi(fe);
    const worker = await startWorker(fe, {}, 'worker');
    const api = new ApiClient(fe.baseUrl);
    const created = await api.createOrganization(`Full Disk ${fe.id}`);
    const id = created.body.id as string;
    await waitForStatuses(fe, [id], ['active'], 30000);
    await addUsers(fe, id, 20000); // its archive is about 0.5 MB: more than the 256 kB tmpfs

    expect((await api.request('DELETE', `/organizations/${id}?purge=true`)).status).to.equal(202);
    await waitUntil(() => worker.count((line) => line.message === 'purge step failed') >= 2, 30000, 'both attempts of the purge to fail');
    const status = await api.status(id);
    expect(status).to.include({ status: 'purging', last_error: 'archive: no space left on the disk (ENOSPC)' });
    expect(await databaseExists(fe, id), 'the database is kept').to.equal(true);
    expect(await controlQuery(fe, `SELECT 1 FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`, [id])).to.deep.equal([]);
    expect(readdirSync(dir), 'no half-written file is left').to.deep.equal([]);

    execFileSync('umount', [dir]);
    mounted = false;
    expect((await api.request('DELETE', `/organizations/${id}?purge=true`)).status).to.equal(202);
    await waitForStatuses(fe, [id], ['purged'], 30000);
    expect(await intactVerifiedArchives(fe, dir, id)).to.have.length(1);
    expect(await databaseExists(fe, id)).to.equal(false);
  });
});
