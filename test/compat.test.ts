import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { auth, queryOrgDatabase } from './support/org-users';
import { uniqueName } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Seed-compatible routes', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack.stop());

  /** The classic client: create, poll `GET /org/get` until active, then `POST /admin/login?organization_name=`. */
  async function classicCreate(name: string, createPath = '/org/create'): Promise<{ id: string; token: string }> {
    const platform = await stack.adminToken();
    const created = await stack.request
      .post(createPath)
      .set(auth(platform))
      .send({ email: 'boss@classic.test', password: 'classic password', organization_name: name })
      .expect(202);
    let status = created.body.status;
    for (let i = 0; i < 300 && status !== 'active'; i++) {
      await sleep(50);
      const polled = await stack.request.get('/org/get').query({ organization_name: name }).set(auth(platform)).expect(200);
      status = polled.body.status;
      expect(polled.body.id).to.equal(created.body.id);
    }
    expect(status).to.equal('active');
    const login = await stack.request
      .post('/admin/login')
      .query({ organization_name: name })
      .send({ email: 'boss@classic.test', password: 'classic password' })
      .expect(200);
    expect(login.body.user).to.include({ email: 'boss@classic.test', role: 'admin' });
    return { id: created.body.id, token: login.body.access_token };
  }

  it('when a classic client creates an organization, polls /org/get and logs in with ?organization_name=, then every step works', async () => {
    await classicCreate(uniqueName('Classic'));
  });

  it('when the classic user routes are used with the org admin token, then users are created and listed in that organization', async () => {
    const { id, token } = await classicCreate(uniqueName('Classic Users'), '/organization/create');
    const user = await stack.request.post('/user/create').set(auth(token)).send({ email: 'staff@classic.test', password: 'staff password' }).expect(201);
    expect(user.body).to.include({ email: 'staff@classic.test', role: 'member', organization_id: id });
    const list = await stack.request.get('/user/list').set(auth(token)).expect(200);
    expect(list.body.items.map((u: { email: string }) => u.email).sort()).to.deep.equal(['boss@classic.test', 'staff@classic.test']);
    expect(await queryOrgDatabase(stack, id, 'SELECT email FROM users WHERE id = $1', [user.body.id])).to.deep.equal([{ email: 'staff@classic.test' }]);
  });

  it('when the classic read routes are used, then POST /org/get and GET /organization answer the same organization, and GET /organization lists for platform admins', async () => {
    const name = uniqueName('Classic Read');
    const { id, token } = await classicCreate(name);
    const byPost = await stack.request.post('/org/get').set(auth(token)).send({ organization_name: name }).expect(200);
    const byGet = await stack.request.get('/organization').query({ organization_name: name.toUpperCase() }).set(auth(token)).expect(200);
    expect(byPost.body).to.deep.equal(byGet.body);
    expect(byGet.body).to.include({ id, name, status: 'active' });
    const list = await stack.request
      .get('/organization')
      .query({ limit: 100 })
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(list.body.items.map((o: { id: string }) => o.id)).to.include(id);
    await stack.request.get('/organization').set(auth(token)).expect(403);
    await stack.request
      .get('/org/get')
      .query({ organization_name: 'No Such Org' })
      .set(auth(await stack.adminToken()))
      .expect(404);
    await stack.request
      .get('/org/get')
      .set(auth(await stack.adminToken()))
      .expect(400);
  });

  it('when PUT /org/update and DELETE /org/delete are used, then the organization is renamed and then deleted', async () => {
    const name = uniqueName('Classic Life');
    const { id, token } = await classicCreate(name);
    const renamed = uniqueName('Classic Renamed');
    const updated = await stack.request.put('/org/update').set(auth(token)).send({ organization_name: name, new_organization_name: renamed }).expect(200);
    expect(updated.body).to.include({ id, name: renamed });
    await stack.request.put('/org/update').set(auth(token)).send({ organization_name: renamed }).expect(400);
    const deleted = await stack.request
      .delete('/org/delete')
      .query({ organization_name: renamed })
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(deleted.body).to.include({ id, status: 'deleted' });
  });
});
