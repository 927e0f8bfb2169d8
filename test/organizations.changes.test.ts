import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { flakyOrganizationsFailOnce } from './support/injected-failures';
import { databaseExists, databaseOf, withClient } from './support/org-databases';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Organization changes: rename, retry', () => {
  let stack: TestStack;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  before(async () => {
    stack = await startStack({ worker: flakyOrganizationsFailOnce(() => stack) });
  });
  after(() => stack.stop());

  describe('PATCH /organizations/:id', () => {
    it('when an active organization is renamed, then name and slug change, the database and its data stay', async () => {
      const org = await createOrganization(stack);
      await waitForStatus(stack, org.id, ['active']);
      const newName = uniqueName('Renamed Co');
      const res = await stack.request
        .patch(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .send({ organization_name: newName, email: 'New-Owner@Example.test' })
        .expect(200);
      expect(res.body).to.include({ id: org.id, name: newName, admin_email: 'new-owner@example.test', status: 'active' });
      expect(res.body.slug).to.match(/^renamed-co-/);
      const [row] = await queryControlDatabase(stack, 'SELECT database_name FROM organizations WHERE id = $1', [org.id]);
      expect(row.database_name).to.equal(databaseOf(stack, org.id));
      const users = await withClient(stack, (c) => c.query('SELECT email FROM users'), databaseOf(stack, org.id));
      expect(users.rows.map((u) => u.email)).to.deep.equal([org.email]);
    });

    it('when the new name is taken (in any case), then it answers 409 and changes nothing', async () => {
      const a = await createOrganization(stack);
      const b = await createOrganization(stack);
      const res = await stack.request
        .patch(`/organizations/${b.id}`)
        .set('Authorization', await auth())
        .send({ organization_name: a.name.toUpperCase() })
        .expect(409);
      expect(res.type).to.equal('application/problem+json');
      const [row] = await queryControlDatabase(stack, 'SELECT name FROM organizations WHERE id = $1', [b.id]);
      expect(row.name).to.equal(b.name);
    });

    it('when the body is empty or carries unknown fields, then it answers 400 problem+json', async () => {
      const org = await createOrganization(stack);
      const empty = await stack.request
        .patch(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .send({})
        .expect(400);
      expect(empty.type).to.equal('application/problem+json');
      await stack.request
        .patch(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .send({ status: 'active' })
        .expect(400);
      await stack.request
        .patch('/organizations/not-a-uuid')
        .set('Authorization', await auth())
        .send({ organization_name: 'Whatever' })
        .expect(400);
    });
  });

  describe('POST /organizations/:id/retry', () => {
    it('when provisioning failed half-way, then retry adopts the half-made database and the organization becomes active', async () => {
      const name = uniqueName('Flaky');
      const res = await stack.request
        .post('/organizations')
        .set('Authorization', await auth())
        .send({ organization_name: name, email: 'flaky@example.test', password: 'long enough' })
        .expect(202);
      const id = res.body.id as string;
      const first = await waitForStatus(stack, id, ['failed', 'active']);
      expect(first.status).to.equal('failed');
      expect(first.last_error).to.match(/^migrate: injected failure/);
      expect(await databaseExists(stack, databaseOf(stack, id)), 'the half-made database is still there').to.equal(true);

      const retried = await stack.request
        .post(`/organizations/${id}/retry`)
        .set('Authorization', await auth())
        .expect(202);
      expect(retried.body.status).to.equal('provisioning');
      const done = await waitForStatus(stack, id, ['active', 'failed']);
      expect(done.status).to.equal('active');
      const dbs = await withClient(stack, (c) => c.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${databaseOf(stack, id)}%`]));
      expect(dbs.rows.map((r) => r.datname)).to.deep.equal([databaseOf(stack, id)]);
      const users = await withClient(stack, (c) => c.query('SELECT email FROM users'), databaseOf(stack, id));
      expect(users.rows).to.have.length(1);
    });

    it('when the organization is not failed, then retry answers 409 with its status', async () => {
      const org = await createOrganization(stack);
      await waitForStatus(stack, org.id, ['active']);
      const res = await stack.request
        .post(`/organizations/${org.id}/retry`)
        .set('Authorization', await auth())
        .expect(409);
      expect(res.body).to.include({ status: 409, current_status: 'active' });
    });
  });
});
