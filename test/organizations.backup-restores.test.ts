import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { verifiedBackup } from './support/backups';
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

  // Holds an in-place restore before its restore step while closed (open by default).
  let held: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const hold = () => {
    held = new Promise<void>((resolve) => (release = resolve));
  };

  before(async () => {
    stack = await startStack({ worker: { beforeRestoreStep: (step) => (step === 'restore' ? held : undefined) } });
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
    release();
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

  describe('in place', () => {
    const prefix = () => stack.config.tenancy.databasePrefix;
    const databasesOf = async (orgId: string) =>
      (
        await queryControlDatabase<{ name: string }>(stack, `SELECT datname AS name FROM pg_database WHERE left(datname, length($1)) = $1 ORDER BY datname`, [
          databaseNameFor(orgId, prefix()),
        ])
      ).map((row) => row.name);

    it('when an admin restores a backup in place, then the users deleted after it come back, the organization is active on one database, and a verified pre_restore backup holds the data it replaced', async () => {
      const before = await usersDigest(stack, orgA.id);
      expect(before.count, 'user3 was deleted after the backup').to.equal(3);
      const res = await stack.request.post(`/organizations/${orgA.id}/backups/${backupId}/restore`).set(auth(tokenA)).send({ mode: 'in_place' }).expect(202);
      expect(res.body).to.include({ id: orgA.id, status: 'restoring' });
      expect(res.headers.location).to.equal(`/organizations/${orgA.id}`);
      expect(res.headers['retry-after']).to.match(/^\d+$/);
      await waitForStatus(stack, orgA.id, ['active'], 90000);

      expect(await usersDigest(stack, orgA.id)).to.deep.equal(atBackup);
      expect(await databasesOf(orgA.id), 'one database, no staging or replaced copy').to.deep.equal([databaseNameFor(orgA.id, prefix())]);
      const [org] = await queryControlDatabase<{ lastError: string | null; restoring: string | null; preRestore: string }>(
        stack,
        `SELECT last_error AS "lastError", restoring_backup_id AS restoring, pre_restore_backup_id AS "preRestore" FROM organizations WHERE id = $1`,
        [orgA.id],
      );
      expect(org).to.include({ lastError: null, restoring: null });
      const pre = await stack.request.get(`/organizations/${orgA.id}/backups/${org.preRestore}`).set(auth(tokenA)).expect(200);
      expect(pre.body).to.include({ kind: 'pre_restore', status: 'verified' });
      const [{ manifest }] = await queryControlDatabase<{ manifest: Record<string, number> }>(stack, 'SELECT manifest FROM organization_dumps WHERE id = $1', [
        org.preRestore,
      ]);
      expect(manifest['public.users'], 'the pre_restore backup has the data the restore replaced').to.equal(before.count);
      // The restored database belongs to the organization's own role and takes writes again.
      await stack.request
        .post(`/organizations/${orgA.id}/users`)
        .set(auth(tokenA))
        .send({ email: 'after-restore@a.test', password: 'correct horse battery', role: 'member' })
        .expect(201);
    });

    it('when the organization is restoring, then writes answer 503 with Retry-After, reads work, and another restore, a backup or a delete answer 409', async () => {
      hold();
      try {
        await stack.request.post(`/organizations/${orgA.id}/backups/${backupId}/restore`).set(auth(admin)).send({ mode: 'in_place' }).expect(202);
        await waitForStatus(stack, orgA.id, ['restoring']);
        const write = await stack.request
          .post(`/organizations/${orgA.id}/users`)
          .set(auth(tokenA))
          .send({ email: 'during-restore@a.test', password: 'correct horse battery', role: 'member' })
          .expect(503);
        expect(write.headers['retry-after']).to.match(/^\d+$/);
        expect(write.headers['content-type']).to.match(/application\/problem\+json/);
        expect(write.body.detail).to.match(/restored/);
        const read = await stack.request.get(`/organizations/${orgA.id}/users`).set(auth(tokenA)).expect(200);
        expect(read.body.items.length).to.be.greaterThan(0);
        const again = await stack.request
          .post(`/organizations/${orgA.id}/backups/${backupId}/restore`)
          .set(auth(tokenA))
          .send({ mode: 'in_place' })
          .expect(409);
        expect(again.body.current_status).to.equal('restoring');
        await stack.request.post(`/organizations/${orgA.id}/backups`).set(auth(tokenA)).expect(409);
        await stack.request.delete(`/organizations/${orgA.id}`).set(auth(admin)).expect(409);
      } finally {
        release();
      }
      await waitForStatus(stack, orgA.id, ['active'], 90000);
      expect(await usersDigest(stack, orgA.id)).to.deep.equal(atBackup);
    });

    it("when the organization is moving or deleted, then an in-place restore answers 409 and nothing changes; another organization's admin gets 404 and a name is refused", async () => {
      const url = `/organizations/${orgA.id}/backups/${backupId}/restore`;
      await stack.request.post(url).set(auth(tokenB)).send({ mode: 'in_place' }).expect(404);
      await stack.request
        .post(url)
        .set(auth(admin))
        .send({ mode: 'in_place', organization_name: uniqueName('Sandbox') })
        .expect(400);
      const organizations = stack.api.stores.organizations;
      await organizations.transition(orgA.id, 'moving', { requestId: 'spec-moving' });
      try {
        const moving = await stack.request.post(url).set(auth(admin)).send({ mode: 'in_place' }).expect(409);
        expect(moving.body.current_status).to.equal('moving');
      } finally {
        await organizations.transition(orgA.id, 'active', { requestId: 'spec-moved-back' });
      }
      const orgBBackup = await verifiedBackup(stack, orgB.id, tokenB);
      await stack.request.delete(`/organizations/${orgB.id}`).set(auth(admin)).expect(200);
      const deleted = await stack.request
        .post(`/organizations/${orgB.id}/backups/${orgBBackup}/restore`)
        .set(auth(admin))
        .send({ mode: 'in_place' })
        .expect(409);
      expect(deleted.body.current_status).to.equal('deleted');
    });
  });
});
