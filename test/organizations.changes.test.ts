import { withDatabase } from '@orgms/common/database/database-urls';
import { organizationEventsChannel } from '@orgms/common/events/organization-events';
import { stagingNameFor } from '@orgms/common/tenancy/database-names';
import { DeprovisioningService } from '@orgms/worker/services/deprovisioning.service';
import { expect } from 'chai';
import IORedis from 'ioredis';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { flakyOrganizationsFailOnce } from './support/injected-failures';
import { databaseExists, databaseOf, withClient } from './support/org-databases';
import { createOrganization, deleteOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Organization changes: rename, delete, retry', () => {
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

  describe('DELETE /organizations/:id', () => {
    it('when an active organization is deleted, then every replica hears evict, its database is dropped despite open connections, it becomes a tombstone and its name is free', async () => {
      const org = await createOrganization(stack);
      await waitForStatus(stack, org.id, ['active']);
      const database = databaseOf(stack, org.id);
      const subscriber = new IORedis(stack.config.queue.redisUrl);
      const heard: string[] = [];
      await subscriber.subscribe(organizationEventsChannel(stack.config.queue));
      subscriber.on('message', (_c, raw: string) => heard.push(raw));
      // A session that never lets go, as a forgotten pool would: DROP … WITH (FORCE) ends it.
      const holder = new Client({ connectionString: withDatabase(stack.config.tenancy.serverUrl, database) });
      await holder.connect();
      holder.on('error', () => undefined);
      try {
        const res = await stack.request
          .delete(`/organizations/${org.id}`)
          .set('Authorization', await auth())
          .expect(202);
        expect(res.body.status).to.equal('deleting');
        expect(res.headers.location).to.equal(`/organizations/${org.id}`);
        await waitForStatus(stack, org.id, ['deleted']);
      } finally {
        await holder.end().catch(() => undefined);
        await subscriber.quit();
      }
      expect(await databaseExists(stack, database)).to.equal(false);
      expect(heard.map((m) => JSON.parse(m)).filter((m) => m.type === 'evict' && m.orgId === org.id)).to.have.length(1);
      const tombstone = await stack.request
        .get(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .expect(200);
      expect(tombstone.body.status).to.equal('deleted');
      await createOrganization(stack, { organization_name: org.name });
      await stack.request
        .delete(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .expect(409);
      await stack.request
        .patch(`/organizations/${org.id}`)
        .set('Authorization', await auth())
        .send({ organization_name: uniqueName() })
        .expect(409);
    });

    it('when the deprovision job runs twice, then the second run changes nothing', async () => {
      const org = await createOrganization(stack);
      await waitForStatus(stack, org.id, ['active']);
      await deleteOrganization(stack, org.id);
      const service = new DeprovisioningService({
        servers: (stack.worker ?? expect.fail('this suite runs a worker')).servers,
        store: stack.api.stores.organizations,
        events: { publish: () => undefined },
        logger: stack.logger,
      });
      expect(await service.deprovision(org.id, { requestId: 'again' })).to.equal('skipped');
    });

    it('when a pending organization is deleted, then it ends deleted and leaves no database behind', async () => {
      const org = await createOrganization(stack);
      await deleteOrganization(stack, org.id);
      // Provisioning may still be finishing its step; give it a moment, then nothing may remain.
      await new Promise((r) => setTimeout(r, 500));
      expect(await databaseExists(stack, databaseOf(stack, org.id))).to.equal(false);
      expect(await databaseExists(stack, stagingNameFor(databaseOf(stack, org.id)))).to.equal(false);
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
