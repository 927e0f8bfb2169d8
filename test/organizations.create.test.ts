import { withDatabase } from '@orgms/common/database/database-urls';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Creating an organization', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack.stop());

  it('when a platform admin creates one, then it answers 202 with Location and becomes active with its own database, schema and admin', async () => {
    const started = Date.now();
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .send({ organization_name: uniqueName('Acme'), email: 'Owner@Acme.test', password: 'eight chars' })
      .expect(202);
    expect(res.headers.location).to.equal(`/organizations/${res.body.id}`);
    expect(res.body).to.include({ status: 'pending', admin_email: 'owner@acme.test' });
    expect(res.body).to.not.have.any.keys('password', 'pending_admin_password_hash', 'database_name');

    const status = await waitForStatus(stack, res.body.id, ['active', 'failed']);
    expect(status.status).to.equal('active');
    stack.logger.info('POST to active', { ms: Date.now() - started });

    const db = new Client({
      connectionString: withDatabase(stack.config.tenancy.serverUrl, databaseNameFor(res.body.id, stack.config.tenancy.databasePrefix)),
    });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT email, role, is_active, password_hash FROM users');
      expect(rows).to.have.length(1);
      expect(rows[0]).to.include({ email: 'owner@acme.test', role: 'admin', is_active: true });
      expect(rows[0].password_hash).to.match(/^\$2b\$04\$/);
    } finally {
      await db.end();
    }
    const events = await queryControlDatabase<{ to_status: string; request_id: string }>(
      stack,
      'SELECT from_status, to_status, request_id FROM organization_events WHERE org_id = $1 ORDER BY id',
      [res.body.id],
    );
    expect(events.map((e) => e.to_status)).to.include.members(['pending', 'provisioning', 'active']);
    expect(new Set(events.map((e) => e.request_id))).to.deep.equal(new Set([res.headers['x-request-id']]));
    const [{ hash }] = await queryControlDatabase(stack, 'SELECT pending_admin_password_hash AS hash FROM organizations WHERE id = $1', [res.body.id]);
    expect(hash, 'the first admin hash is forgotten once seeded').to.equal(null);
  });

  it('when the name is taken (in any case), then it answers 409 and creates nothing', async () => {
    const org = await createOrganization(stack);
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .send({ organization_name: org.name.toUpperCase(), email: 'x@example.test', password: 'long enough' })
      .expect(409);
    expect(res.type).to.equal('application/problem+json');
    const [{ count }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS count FROM organizations WHERE lower(name) = lower($1)', [org.name]);
    expect(count).to.equal(1);
  });

  it('when ten identical creates race, then exactly one organization and one database exist', async () => {
    const name = uniqueName('Race');
    const token = await stack.adminToken();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        stack.request
          .post('/organizations')
          .set('Authorization', `Bearer ${token}`)
          .send({ organization_name: name, email: 'r@example.test', password: 'long enough' }),
      ),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).to.deep.equal([202, ...Array(9).fill(409)]);
    const winner = responses.find((r) => r.status === 202)?.body.id as string;
    await waitForStatus(stack, winner, ['active']);
    const rows = await queryControlDatabase(stack, 'SELECT id FROM organizations WHERE lower(name) = lower($1)', [name]);
    expect(rows).to.have.length(1);
  });

  it('when there is no token, then creating and reading answer 401 problem+json', async () => {
    const res = await stack.request.post('/organizations').send({ organization_name: 'No Token', email: 'a@b.test', password: 'long enough' }).expect(401);
    expect(res.type).to.equal('application/problem+json');
    await stack.request.get('/organizations').expect(401);
    await stack.request.get('/organizations').set('Authorization', 'Bearer not-a-jwt').expect(401);
  });

  it('when listing, then pages follow next_cursor and the status filter applies', async () => {
    const token = await stack.adminToken();
    for (let i = 0; i < 3; i++) await createOrganization(stack);
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; next_cursor: string | null } } = await stack.request
        .get('/organizations')
        .query(cursor ? { limit: 2, cursor } : { limit: 2 })
        .set('Authorization', `Bearer ${token}`)
        .expect(200);
      expect(res.body.items.length).to.be.at.most(2);
      for (const item of res.body.items) seen.add(item.id);
      cursor = res.body.next_cursor;
    } while (cursor);
    const [{ count }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS count FROM organizations');
    expect(seen.size).to.equal(count);

    const failed = await stack.request.get('/organizations').query({ status: 'failed' }).set('Authorization', `Bearer ${token}`).expect(200);
    expect(failed.body.items).to.deep.equal([]);
    await stack.request.get('/organizations').query({ cursor: 'garbage' }).set('Authorization', `Bearer ${token}`).expect(400);
  });

  it('when an organization is still in progress, then its status carries Retry-After', async () => {
    // The worker holds off, so the organization is certainly still pending when read.
    const worker = stack.worker?.provisioningWorker;
    if (!worker) throw new Error('this suite runs a worker');
    await worker.pause();
    const org = await createOrganization(stack);
    const res = await stack.request
      .get(`/organizations/${org.id}`)
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(res.body.status).to.equal('pending');
    expect(res.headers['retry-after']).to.equal('2');
    worker.resume();
    const done = await waitForStatus(stack, org.id, ['active']);
    const after = await stack.request
      .get(`/organizations/${org.id}/status`)
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(done.status).to.equal('active');
    expect(after.headers['retry-after']).to.equal(undefined);
  });
});
