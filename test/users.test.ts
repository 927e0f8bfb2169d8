import { expect } from 'chai';
import { auth, createActiveOrganization, orgLogin, queryOrgDatabase } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

describe('Organization users', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack.stop());

  it('when an org admin creates a user, then it answers 201 with Location, stores it in the org database and never returns a hash', async () => {
    const org = await createActiveOrganization(stack);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const res = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(token))
      .send({ email: 'Alice@Example.test', password: 'alice password' })
      .expect(201);
    expect(res.headers.location).to.equal(`/organizations/${org.id}/users/${res.body.id}`);
    expect(res.body).to.include({ email: 'alice@example.test', role: 'member', is_active: true, organization_id: org.id });
    expect(JSON.stringify(res.body)).to.not.match(/password|hash|\$2b\$/);
    const rows = await queryOrgDatabase(stack, org.id, 'SELECT email, role FROM users WHERE id = $1', [res.body.id]);
    expect(rows).to.deep.equal([{ email: 'alice@example.test', role: 'member' }]);

    const got = await stack.request.get(`/organizations/${org.id}/users/${res.body.id}`).set(auth(token)).expect(200);
    expect(got.body).to.deep.equal(res.body);
  });

  it('when the email is taken in another case, then it answers 409 and adds no row', async () => {
    const org = await createActiveOrganization(stack);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const res = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(token))
      .send({ email: org.email.toUpperCase(), password: 'another password' })
      .expect(409);
    expect(res.type).to.equal('application/problem+json');
    const rows = await queryOrgDatabase(stack, org.id, 'SELECT count(*)::int AS n FROM users');
    expect(rows[0]).to.deep.equal({ n: 1 });
  });

  it('when the input is bad, then it answers 400 problem+json naming the fields and changes nothing', async () => {
    const org = await createActiveOrganization(stack);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const res = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(token))
      .send({ email: 'not-an-email', password: 'short', role: 'root', extra: 1 })
      .expect(400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).to.deep.equal(['body.email', 'body.extra', 'body.password', 'body.role']);
    await stack.request.patch(`/organizations/${org.id}/users/${org.id}`).set(auth(token)).send({}).expect(400);
    await stack.request.get(`/organizations/${org.id}/users/not-a-uuid`).set(auth(token)).expect(400);
    const rows = await queryOrgDatabase(stack, org.id, 'SELECT count(*)::int AS n FROM users');
    expect(rows[0]).to.deep.equal({ n: 1 });
  });

  it('when listing, then pages follow next_cursor without repeats or gaps', async () => {
    const org = await createActiveOrganization(stack);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    for (let i = 0; i < 5; i++) {
      await stack.request
        .post(`/organizations/${org.id}/users`)
        .set(auth(token))
        .send({ email: `u${i}@example.test`, password: 'long enough' })
        .expect(201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { email: string }[]; next_cursor: string | null } } = await stack.request
        .get(`/organizations/${org.id}/users`)
        .query(cursor ? { limit: 2, cursor } : { limit: 2 })
        .set(auth(token))
        .expect(200);
      seen.push(...res.body.items.map((u) => u.email));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).to.have.length(6);
    expect(new Set(seen).size).to.equal(6);
    await stack.request.get(`/organizations/${org.id}/users`).query({ cursor: 'bad' }).set(auth(token)).expect(400);
  });

  it('when a member calls, then it may read itself only, and may not list, create, change or delete', async () => {
    const org = await createActiveOrganization(stack);
    const admin = await orgLogin(stack, org.id, org.email, org.password);
    const member = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(admin))
      .send({ email: 'm@example.test', password: 'member password' })
      .expect(201);
    const token = await orgLogin(stack, org.id, 'm@example.test', 'member password');
    await stack.request.get(`/organizations/${org.id}/users/${member.body.id}`).set(auth(token)).expect(200);
    const adminRow = await queryOrgDatabase<{ id: string }>(stack, org.id, "SELECT id FROM users WHERE role = 'admin'");
    await stack.request.get(`/organizations/${org.id}/users/${adminRow[0].id}`).set(auth(token)).expect(403);
    await stack.request.get(`/organizations/${org.id}/users`).set(auth(token)).expect(403);
    await stack.request.post(`/organizations/${org.id}/users`).set(auth(token)).send({ email: 'x@example.test', password: 'long enough' }).expect(403);
    await stack.request.patch(`/organizations/${org.id}/users/${member.body.id}`).set(auth(token)).send({ role: 'admin' }).expect(403);
    await stack.request.delete(`/organizations/${org.id}/users/${member.body.id}`).set(auth(token)).expect(403);
    const rows = await queryOrgDatabase(stack, org.id, 'SELECT role FROM users WHERE id = $1', [member.body.id]);
    expect(rows).to.deep.equal([{ role: 'member' }]);
  });

  it('when a user is deactivated, then it cannot log in and its existing token stops working', async () => {
    const org = await createActiveOrganization(stack);
    const admin = await orgLogin(stack, org.id, org.email, org.password);
    const user = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(admin))
      .send({ email: 'd@example.test', password: 'deactivate me' })
      .expect(201);
    const token = await orgLogin(stack, org.id, 'd@example.test', 'deactivate me');
    await stack.request.get('/me').set(auth(token)).expect(200);
    const patched = await stack.request.patch(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).send({ is_active: false }).expect(200);
    expect(patched.body.is_active).to.equal(false);
    await stack.request.get('/me').set(auth(token)).expect(401);
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: 'd@example.test', password: 'deactivate me' }).expect(401);
    // Reactivation lets the user log in again, but the old token stays dead.
    await stack.request.patch(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).send({ is_active: true }).expect(200);
    await stack.request.get('/me').set(auth(token)).expect(401);
    await orgLogin(stack, org.id, 'd@example.test', 'deactivate me');
  });

  it('when a password or role changes, then tokens issued before stop working and the new password works', async () => {
    const org = await createActiveOrganization(stack);
    const admin = await orgLogin(stack, org.id, org.email, org.password);
    const user = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(admin))
      .send({ email: 'p@example.test', password: 'old password' })
      .expect(201);
    const before = await orgLogin(stack, org.id, 'p@example.test', 'old password');
    await stack.request.patch(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).send({ password: 'new password' }).expect(200);
    await stack.request.get('/me').set(auth(before)).expect(401);
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: 'p@example.test', password: 'old password' }).expect(401);
    const after = await orgLogin(stack, org.id, 'p@example.test', 'new password');

    await stack.request.patch(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).send({ role: 'admin' }).expect(200);
    await stack.request.get('/me').set(auth(after)).expect(401);
    const promoted = await orgLogin(stack, org.id, 'p@example.test', 'new password');
    await stack.request.get(`/organizations/${org.id}/users`).set(auth(promoted)).expect(200);
  });

  it('when the last active admin would be demoted, deactivated or deleted, then it answers 409 and keeps it', async () => {
    const org = await createActiveOrganization(stack);
    const admin = await orgLogin(stack, org.id, org.email, org.password);
    const [{ id }] = await queryOrgDatabase<{ id: string }>(stack, org.id, "SELECT id FROM users WHERE role = 'admin'");
    await stack.request.patch(`/organizations/${org.id}/users/${id}`).set(auth(admin)).send({ role: 'member' }).expect(409);
    await stack.request.patch(`/organizations/${org.id}/users/${id}`).set(auth(admin)).send({ is_active: false }).expect(409);
    await stack.request.delete(`/organizations/${org.id}/users/${id}`).set(auth(admin)).expect(409);
    const rows = await queryOrgDatabase(stack, org.id, 'SELECT role, is_active, token_version FROM users WHERE id = $1', [id]);
    expect(rows).to.deep.equal([{ role: 'admin', is_active: true, token_version: 0 }]);
  });

  it('when two admins are demoted at the same moment, again and again, then neither request deadlocks or answers 5xx, and one admin always remains', async () => {
    const org = await createActiveOrganization(stack);
    const owner = await orgLogin(stack, org.id, org.email, org.password);
    const admins: string[] = [];
    for (const email of ['twin-a@example.test', 'twin-b@example.test']) {
      const res = await stack.request
        .post(`/organizations/${org.id}/users`)
        .set(auth(owner))
        .send({ email, password: 'twin password', role: 'admin' })
        .expect(201);
      admins.push(res.body.id);
    }
    const demoteBoth = (token = owner) =>
      Promise.all(admins.map((id) => stack.request.patch(`/organizations/${org.id}/users/${id}`).set(auth(token)).send({ role: 'member' })));
    const promoteBoth = () =>
      Promise.all(admins.map((id) => stack.request.patch(`/organizations/${org.id}/users/${id}`).set(auth(owner)).send({ role: 'admin' }).expect(200)));
    for (let round = 0; round < 8; round++) {
      const answers = await demoteBoth();
      expect(
        answers.map((r) => r.status),
        `round ${round}`,
      ).to.deep.equal([200, 200]); // the owner stays admin
      await promoteBoth();
    }
    // With only the two of them left as admins, exactly one demotion wins and the other is the last-admin 409.
    await stack.request
      .patch(`/organizations/${org.id}/users/${await ownerId(org.id)}`)
      .set(auth(owner))
      .send({ role: 'member' })
      .expect(200);
    const last = await demoteBoth(await stack.adminToken()); // the owner's own token ended with its role
    expect(last.map((r) => r.status).sort()).to.deep.equal([200, 409]);
    const [{ n }] = await queryOrgDatabase<{ n: number }>(stack, org.id, "SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND is_active");
    expect(n).to.equal(1);
  });

  async function ownerId(orgId: string): Promise<string> {
    const [{ id }] = await queryOrgDatabase<{ id: string }>(stack, orgId, "SELECT id FROM users WHERE email = 'owner@example.test'");
    return id;
  }

  it('when an admin deletes a user, then it answers 204, the row is gone and a second delete is 404', async () => {
    const org = await createActiveOrganization(stack);
    const admin = await orgLogin(stack, org.id, org.email, org.password);
    const user = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(admin))
      .send({ email: 'gone@example.test', password: 'long enough' })
      .expect(201);
    const token = await orgLogin(stack, org.id, 'gone@example.test', 'long enough');
    await stack.request.delete(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).expect(204);
    await stack.request.delete(`/organizations/${org.id}/users/${user.body.id}`).set(auth(admin)).expect(404);
    await stack.request.get('/me').set(auth(token)).expect(401);
    expect(await queryOrgDatabase(stack, org.id, 'SELECT id FROM users WHERE id = $1', [user.body.id])).to.deep.equal([]);
  });

  it('when a platform admin manages users of any organization, then it may', async () => {
    const org = await createActiveOrganization(stack);
    const token = await stack.adminToken();
    const created = await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(token))
      .send({ email: 'pa@example.test', password: 'long enough', role: 'admin' })
      .expect(201);
    const list = await stack.request.get(`/organizations/${org.id}/users`).set(auth(token)).expect(200);
    expect(list.body.items.map((u: { id: string }) => u.id)).to.include(created.body.id);
  });

  it('when the organization is not active, then its user routes answer 409 with its status', async () => {
    await stack.worker?.provisioningWorker.pause();
    try {
      const res = await stack.request
        .post('/organizations')
        .set(auth(await stack.adminToken()))
        .send({ organization_name: `Pending ${Date.now()}`, email: 'o@example.test', password: 'long enough' })
        .expect(202);
      const users = await stack.request
        .get(`/organizations/${res.body.id}/users`)
        .set(auth(await stack.adminToken()))
        .expect(409);
      expect(users.body).to.include({ status: 409, organization_status: 'pending' });
      const login = await stack.request
        .post('/admin/login')
        .send({ organization_id: res.body.id, email: 'o@example.test', password: 'long enough' })
        .expect(409);
      expect(login.body).to.include({ status: 409, organization_status: 'pending' });
    } finally {
      stack.worker?.provisioningWorker.resume();
    }
  });
});
