import { expect } from 'chai';
import { Client } from 'pg';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { Random } from '../chaos/random';
import { ApiClient, endFaultTest, HeldAdvisoryLock, orgDatabases, waitForStatuses } from '../support/service-processes';

interface UsersDigest {
  count: number;
  checksum: string;
}

/** The users of the organization's database, read directly: a count and one checksum of every row that matters. */
async function usersDigest(database: string): Promise<UsersDigest> {
  const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${database}` });
  await client.connect();
  try {
    const { rows } = await client.query<UsersDigest>(
      `SELECT count(*)::int AS count, md5(coalesce(string_agg(id || email || password_hash || role, ',' ORDER BY id), '')) AS checksum FROM users`,
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

/** An API and a worker on `env`, and one active organization there; its database named as the worker names it. */
async function activeOrganization(env: ServiceEnv, name: string) {
  await startApi(env);
  const worker = await startWorker(env, {}, 'worker-1');
  const api = new ApiClient(env.baseUrl);
  const created = await api.createOrganization(`${name} ${env.id}`);
  expect(created.status, JSON.stringify(created.body)).to.equal(202);
  const orgId = created.body.id as string;
  await waitForStatuses(env, [orgId], ['active'], 30000);
  return { worker, api, orgId, database: `${env.orgPrefix}${orgId.replace(/-/g, '')}` };
}

async function addUser(api: ApiClient, orgId: string, email: string): Promise<string> {
  const user = await api.request('POST', `/organizations/${orgId}/users`, { body: { email, password: 'correct horse battery', role: 'member' } });
  expect(user.status, JSON.stringify(user.body)).to.equal(201);
  return user.body.id as string;
}

/** A manual backup of the organization, once it is verified: its id. */
async function verifiedBackup(api: ApiClient, orgId: string): Promise<string> {
  const backup = await api.request('POST', `/organizations/${orgId}/backups`);
  expect(backup.status, JSON.stringify(backup.body)).to.equal(202);
  await waitUntil(
    async () => (await api.request('GET', `/organizations/${orgId}/backups/${backup.body.id}`)).body.status === 'verified' || undefined,
    30000,
    'the backup to be verified',
    200,
  );
  return backup.body.id as string;
}

/**
 * An in-place restore takes its swap under the organization's advisory lock (the one provisioning,
 * moves and drops take). Holding that lock from outside keeps the worker at the swap, with the
 * pre_restore backup taken and the staging copy restored and verified, so it is surely killed in
 * the middle of the restore; the new worker gets the job back from BullMQ's stalled-job check.
 */
describe('Fault: a worker killed with SIGKILL in the middle of an in-place restore', function () {
  this.timeout(120000);
  let fe: ServiceEnv | undefined;
  let lock: HeldAdvisoryLock | undefined;

  afterEach(async function () {
    await lock?.release();
    await endFaultTest(this.currentTest, fe);
  });

  it('when the worker dies at the swap, then a new worker ends the organization active on the old or the restored data, never a mix, with one database and no staging copy', async () => {
    fe = await isolatedServiceEnv();
    const { worker: first, api, orgId, database } = await activeOrganization(fe, 'Restore Crash');
    const userIds: string[] = [];
    for (const n of [1, 2, 3]) userIds.push(await addUser(api, orgId, `user${n}@faults.test`));
    const backupId = await verifiedBackup(api, orgId);
    const restored = await usersDigest(database);
    for (const id of userIds.slice(0, 2)) expect((await api.request('DELETE', `/organizations/${orgId}/users/${id}`)).status).to.equal(204);
    const old = await usersDigest(database);
    expect(old.count).to.equal(restored.count - 2);

    lock = await HeldAdvisoryLock.acquire(orgId);
    const restore = await api.request('POST', `/organizations/${orgId}/backups/${backupId}/restore`, { body: { mode: 'in_place' } });
    expect(restore.status, JSON.stringify(restore.body)).to.equal(202);
    await waitUntil(
      async () => {
        const [org] = await controlQuery<{ step: string | null }>(fe as ServiceEnv, 'SELECT step FROM organizations WHERE id = $1', [orgId]);
        return org.step === 'swap' && ((await lock?.waiters(orgId)) ?? 0) >= 1 ? true : undefined;
      },
      60000,
      'the restore to wait at its swap',
      100,
    );

    first.signal('SIGKILL');
    expect((await first.exited).signal).to.equal('SIGKILL');
    await lock.release();
    lock = undefined;
    const killedAt = Date.now();
    await startWorker(fe, {}, 'worker-2');
    await waitForStatuses(fe, [orgId], ['active'], 60000);

    const now = await usersDigest(database);
    expect([restored, old], 'the old data or the restored data, never a mix').to.deep.include(now);
    const databases = (await orgDatabases(fe)).filter((d) => d.datname.startsWith(database));
    expect(databases, 'one database, no staging or replaced copy').to.deep.equal([{ datname: database, marker: `orgms:organization:${orgId}` }]);
    const [org] = await controlQuery<{ restoring: string | null; preRestore: string | null }>(
      fe,
      'SELECT restoring_backup_id AS restoring, pre_restore_backup_id AS "preRestore" FROM organizations WHERE id = $1',
      [orgId],
    );
    expect(org.restoring).to.equal(null);
    const [pre] = await controlQuery<{ status: string; users: number }>(
      fe,
      `SELECT status, (manifest->>'public.users')::int AS users FROM organization_dumps WHERE id = $1 AND backup_kind = 'pre_restore'`,
      [org.preRestore],
    );
    expect(pre, 'the pre_restore backup holds the data the restore replaced').to.deep.equal({ status: 'verified', users: old.count });
    const write = await api.request('POST', `/organizations/${orgId}/users`, {
      body: { email: 'after-crash@faults.test', password: 'correct horse battery', role: 'member' },
    });
    expect(write.status, 'writes work again').to.equal(201);
    process.stdout.write(
      `      (active on the ${now.checksum === restored.checksum ? 'restored' : 'old'} data ${Date.now() - killedAt} ms after the SIGKILL)\n`,
    );
  });

  it('when the worker dies at seeded random moments of in-place restores, then each time a new worker ends the organization active on the old or the restored data, with one database and no staging copy', async () => {
    fe = await isolatedServiceEnv();
    const prepared = await activeOrganization(fe, 'Restore Kills');
    const { api, orgId, database } = prepared;
    let { worker } = prepared;
    await addUser(api, orgId, 'kept@faults.test');
    const backupId = await verifiedBackup(api, orgId);
    const restored = await usersDigest(database);

    // A fixed seed: the same moments every run, spread over a restore (about 0.2–0.8 s here).
    const random = new Random(20261206);
    for (let round = 1; round <= 3; round += 1) {
      await addUser(api, orgId, `added-${round}@faults.test`); // so that the data before the restore differs from the backup's
      const old = await usersDigest(database);
      const restore = await api.request('POST', `/organizations/${orgId}/backups/${backupId}/restore`, { body: { mode: 'in_place' } });
      expect(restore.status, JSON.stringify(restore.body)).to.equal(202);
      const moment = random.int(0, 600);
      await new Promise((resolve) => setTimeout(resolve, moment));
      worker.signal('SIGKILL');
      await worker.exited;
      worker = await startWorker(fe, {}, `worker-${round + 1}`);
      await waitForStatuses(fe, [orgId], ['active'], 60000);
      const now = await usersDigest(database);
      expect([restored, old], `round ${round} (killed ${moment} ms in): the old data or the restored data, never a mix`).to.deep.include(now);
      const databases = (await orgDatabases(fe)).filter((d) => d.datname.startsWith(database));
      expect(databases, `round ${round}: one database, no staging or replaced copy`).to.deep.equal([
        { datname: database, marker: `orgms:organization:${orgId}` },
      ]);
      process.stdout.write(`      (round ${round}: killed ${moment} ms in, active on the ${now.checksum === restored.checksum ? 'restored' : 'old'} data)\n`);
    }
  });
});
