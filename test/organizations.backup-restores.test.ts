import { setTimeout as sleep } from 'node:timers/promises';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { auth, createActiveOrganization, orgLogin, queryOrgDatabase } from './support/org-users';
import { type CreatedOrg, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** The users of an organization's database as a count and one checksum of every row that matters. */
async function usersDigest(stack: TestStack, orgId: string): Promise<{ count: number; checksum: string }> {
  const [row] = await queryOrgDatabase<{ count: number; checksum: string }>(
    stack,
    orgId,
    `SELECT count(*)::int AS count, md5(coalesce(string_agg(id || email || password_hash || role, ',' ORDER BY id), '')) AS checksum FROM users`,
  );
  return row;
}

async function verifiedBackup(stack: TestStack, orgId: string, token: string): Promise<string> {
  const res = await stack.request.post(`/organizations/${orgId}/backups`).set(auth(token)).expect(202);
  const deadline = Date.now() + 60000;
  for (;;) {
    const read = await stack.request.get(`/organizations/${orgId}/backups/${res.body.id}`).set(auth(token)).expect(200);
    if (read.body.status === 'verified') return res.body.id as string;
    if (read.body.status === 'failed' || Date.now() > deadline) throw new Error(`backup ${read.body.status}: ${read.body.error}`);
    await sleep(100);
  }
}

describe('Restoring an organization from a backup', function () {
  this.timeout(180000);
  let stack: TestStack;
  let orgA: CreatedOrg;
  let orgB: CreatedOrg;
  let tokenA: string;
  let tokenB: string;
  let admin: string;
  let backupId: string;
  let atBackup: { count: number; checksum: string };

  before(async () => {
    stack = await startStack({ worker: true });
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
    backupId = await verifiedBackup(stack, orgA.id, tokenA);
    atBackup = await usersDigest(stack, orgA.id);
    expect(atBackup.count).to.equal(4);
  });

  after(async () => {
    await stack?.stop();
  });

  describe('as a new organization (sandbox)', () => {
    it("when an admin restores a backup as a new organization, then a separate organization with its own database and role holds exactly the backup's users", async () => {
      // Changed after the backup: the sandbox must not see it.
      const [gone] = await queryOrgDatabase<{ id: string }>(stack, orgA.id, `SELECT id FROM users WHERE email = 'user3@a.test'`);
      await stack.request.delete(`/organizations/${orgA.id}/users/${gone.id}`).set(auth(tokenA)).expect(204);

      const name = uniqueName('Sandbox');
      const res = await stack.request
        .post(`/organizations/${orgA.id}/backups/${backupId}/restore`)
        .set(auth(tokenA))
        .send({ mode: 'new_organization', organization_name: name })
        .expect(202);
      expect(res.headers['content-type']).to.match(/application\/json/);
      expect(res.body.id).to.be.a('string').and.not.equal(orgA.id);
      expect(res.body).to.include({ name, status: 'pending' });
      expect(res.headers.location).to.equal(`/organizations/${res.body.id}`);
      await waitForStatus(stack, res.body.id, ['active'], 60000);

      expect(await usersDigest(stack, res.body.id)).to.deep.equal(atBackup);
      expect((await usersDigest(stack, orgA.id)).count, 'the source keeps its own data').to.equal(3);
      const owners = await queryControlDatabase<{ owner: string; name: string }>(
        stack,
        `SELECT pg_get_userbyid(datdba) AS owner, datname AS name FROM pg_database WHERE datname = ANY($1::text[])`,
        [[databaseNameFor(orgA.id, stack.config.tenancy.databasePrefix), databaseNameFor(res.body.id, stack.config.tenancy.databasePrefix)]],
      );
      expect(owners).to.have.length(2);
      expect(owners[0].owner, 'each database is owned by its own organization role').to.not.equal(owners[1].owner);
      // The backup's admins sign in to the sandbox with their passwords of then.
      await orgLogin(stack, res.body.id, orgA.email, orgA.password);
      await orgLogin(stack, res.body.id, 'user3@a.test', 'correct horse battery');
    });

    it("when a platform admin restores as a new organization, then it is accepted; another organization's admin gets 404, a member 403, a missing name 400", async () => {
      const member = await orgLogin(stack, orgA.id, 'user1@a.test', 'correct horse battery');
      const url = `/organizations/${orgA.id}/backups/${backupId}/restore`;
      const body = { mode: 'new_organization', organization_name: uniqueName('Sandbox') };
      await stack.request.post(url).set(auth(tokenB)).send(body).expect(404);
      await stack.request.post(`/organizations/${orgB.id}/backups/${backupId}/restore`).set(auth(tokenB)).send(body).expect(404);
      await stack.request.post(url).set(auth(member)).send(body).expect(403);
      const bad = await stack.request.post(url).set(auth(admin)).send({ mode: 'new_organization' }).expect(400);
      expect(bad.headers['content-type']).to.match(/application\/problem\+json/);
      await stack.request
        .post(url)
        .set(auth(admin))
        .send({ mode: 'sideways', organization_name: uniqueName('Sandbox') })
        .expect(400);
      const res = await stack.request.post(url).set(auth(admin)).send(body).expect(202);
      await waitForStatus(stack, res.body.id, ['active'], 60000);
      expect(await usersDigest(stack, res.body.id)).to.deep.equal(atBackup);
    });
  });
});
