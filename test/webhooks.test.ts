import { createControlDataSource } from '@orgms/common/database/control-data-source';
import { SecretBox } from '@orgms/common/secret-box';
import { WebhookStore } from '@orgms/common/webhooks/webhook-store';
import { WebhookDeliveryService } from '@orgms/worker/webhooks/webhook-delivery.service';
import { expect } from 'chai';
import type { Response } from 'supertest';
import { auth } from './support/org-users';
import { createOrganization } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

const SECRET = /^whsec_[A-Za-z0-9+/]+=*$/;

describe('Webhook endpoints (/webhooks)', function () {
  this.timeout(60000);
  let stack: TestStack;
  let admin: string;

  before(async () => {
    // The specification of refusals: private targets are refused, as in production.
    stack = await startStack({ env: { WEBHOOK_ALLOW_PRIVATE: 'false' } });
    admin = await stack.adminToken();
  });
  after(() => stack.stop());

  /** Registers an endpoint at a public address (nothing is delivered: this suite runs no worker). */
  async function register(body: Record<string, unknown> = {}) {
    return stack.request
      .post('/webhooks')
      .set(auth(admin))
      .send({ url: 'https://93.184.216.34/hooks', events: ['organization.created', 'organization.active'], ...body })
      .expect(201);
  }

  it('when a platform admin registers an endpoint, then 201 with Location, the secret shown once, and reads never show it', async () => {
    const res = await register({ description: 'Billing system' });
    expect(res.headers.location).to.equal(`/webhooks/${res.body.id}`);
    expect(res.body).to.include({ url: 'https://93.184.216.34/hooks', description: 'Billing system', status: 'active', failing_since: null });
    expect(res.body.events).to.deep.equal(['organization.created', 'organization.active']);
    expect(res.body.secret).to.match(SECRET);

    const read = await stack.request.get(res.headers.location).set(auth(admin)).expect(200);
    expect(read.body).to.not.have.property('secret');
    expect(read.body).to.deep.equal(Object.fromEntries(Object.entries(res.body).filter(([key]) => key !== 'secret')));
    const list = await stack.request.get('/webhooks').set(auth(admin)).expect(200);
    expect(list.body.items.map((e: { id: string }) => e.id)).to.include(res.body.id);
    expect(JSON.stringify(list.body)).to.not.contain(res.body.secret);
  });

  it('when the secret is stored, then it is sealed with SECRETS_KEY, never in clear', async () => {
    const { body } = await register();
    const db = createControlDataSource(stack.config.database);
    await db.initialize();
    try {
      const [row] = await db.query(`SELECT secret_sealed FROM webhook_endpoints WHERE id = $1`, [body.id]);
      expect(row.secret_sealed).to.match(/^v1\./);
      expect(row.secret_sealed).to.not.contain(body.secret.slice(6));
    } finally {
      await db.destroy();
    }
  });

  it('when the list is paged, then each endpoint appears once, newest first', async () => {
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push((await register()).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await stack.request
        .get('/webhooks')
        .query({ limit: 2, ...(cursor ? { cursor } : {}) })
        .set(auth(admin))
        .expect(200);
      seen.push(...res.body.items.map((e: { id: string }) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).to.equal(seen.length);
    expect(seen.slice(0, 3)).to.deep.equal([...ids].reverse());
  });

  it('when an endpoint is changed, then PATCH answers it changed; a description can be removed with null', async () => {
    const { body } = await register({ description: 'old' });
    const res = await stack.request
      .patch(`/webhooks/${body.id}`)
      .set(auth(admin))
      .send({ events: ['organization.deleted', 'organization.renamed'], description: null })
      .expect(200);
    expect(res.body.events).to.deep.equal(['organization.deleted', 'organization.renamed']);
    expect(res.body.description).to.equal(null);
    expect(res.body.url).to.equal(body.url);
  });

  it('when the secret is rotated, then a new secret is answered once', async () => {
    const { body } = await register();
    const res = await stack.request.post(`/webhooks/${body.id}/rotate-secret`).set(auth(admin)).expect(200);
    expect(res.body.secret).to.match(SECRET).and.to.not.equal(body.secret);
    expect(res.body.id).to.equal(body.id);
  });

  it('when an endpoint is deleted, then it is gone (404), and deleting again is a 404', async () => {
    const { body } = await register();
    await stack.request.delete(`/webhooks/${body.id}`).set(auth(admin)).expect(204);
    await stack.request.get(`/webhooks/${body.id}`).set(auth(admin)).expect(404);
    await stack.request.delete(`/webhooks/${body.id}`).set(auth(admin)).expect(404);
    await stack.request.get(`/webhooks/${body.id}/deliveries`).set(auth(admin)).expect(404);
  });

  it('when the body is invalid, then 400 problem+json naming each field, and nothing is registered', async () => {
    const before = (await stack.request.get('/webhooks').query({ limit: 100 }).set(auth(admin)).expect(200)).body.items.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ events: ['organization.created'] }, 'body.url'],
      [{ url: 'not a url', events: ['organization.created'] }, 'body.url'],
      [{ url: 'ftp://93.184.216.34/x', events: ['organization.created'] }, 'body.url'],
      [{ url: 'https://user:pass@93.184.216.34/x', events: ['organization.created'] }, 'body.url'],
      [{ url: 'https://93.184.216.34/x', events: [] }, 'body.events'],
      [{ url: 'https://93.184.216.34/x', events: ['organization.exploded'] }, 'body.events.0'],
      [{ url: 'https://93.184.216.34/x', events: ['organization.active', 'organization.active'] }, 'body.events.1'],
      [{ url: 'https://93.184.216.34/x', events: ['organization.active'], secret: 'whsec_mine' }, 'body.secret'],
    ];
    for (const [body, field] of cases) {
      const res = await stack.request.post('/webhooks').set(auth(admin)).send(body).expect(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(
        res.body.errors.map((e: { field: string }) => e.field),
        JSON.stringify(body),
      ).to.include(field);
    }
    const { body } = await register();
    const patched = await stack.request.patch(`/webhooks/${body.id}`).set(auth(admin)).send({}).expect(400);
    expect(patched.headers['content-type']).to.match(/^application\/problem\+json/);
    await stack.request.get('/webhooks/not-a-uuid').set(auth(admin)).expect(400);
    const after = (await stack.request.get('/webhooks').query({ limit: 100 }).set(auth(admin)).expect(200)).body.items.length;
    expect(after).to.equal(before + 1);
  });

  it('when the URL points at a private, loopback, link-local or unspecified address, then 400 naming body.url, at registration and on PATCH', async () => {
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://192.168.0.10/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/hook',
      'http://2130706433/hook',
    ]) {
      const res = await stack.request
        .post('/webhooks')
        .set(auth(admin))
        .send({ url, events: ['organization.active'] })
        .expect(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.errors, url).to.deep.include.members([{ field: 'body.url', message: res.body.errors[0].message }]);
      expect(res.body.errors[0].message, url).to.match(/cannot be called/);
    }
    const { body } = await register();
    const res = await stack.request.patch(`/webhooks/${body.id}`).set(auth(admin)).send({ url: 'http://127.0.0.1/' }).expect(400);
    expect(res.body.errors[0].field).to.equal('body.url');
    expect((await stack.request.get(`/webhooks/${body.id}`).set(auth(admin)).expect(200)).body.url).to.equal(body.url);
  });

  it('when the URL is an IPv4-compatible IPv6 address ([::a.b.c.d]), then 400 naming body.url, like the other forms that embed IPv4', async () => {
    for (const url of ['http://[::127.0.0.1]/hook', 'http://[::10.0.0.1]/hook', 'http://[::169.254.169.254]/latest/meta-data']) {
      const res = await stack.request
        .post('/webhooks')
        .set(auth(admin))
        .send({ url, events: ['organization.active'] })
        .expect(400);
      expect(res.headers['content-type']).to.match(/^application\/problem\+json/);
      expect(res.body.errors[0], url).to.include({ field: 'body.url' });
      expect(res.body.errors[0].message, url).to.match(/cannot be called.*not a public address/);
    }
  });

  it('when an organization is created, then each subscribed endpoint has a pending delivery of organization.created, and others none', async () => {
    const subscribed = (await register({ events: ['organization.created'] })).body;
    const other = (await register({ events: ['organization.renamed'] })).body;
    const org = await createOrganization(stack);
    const res = await stack.request.get(`/webhooks/${subscribed.id}/deliveries`).set(auth(admin)).expect(200);
    const mine = res.body.items.filter((d: { organization_id: string }) => d.organization_id === org.id);
    expect(mine).to.have.length(1);
    expect(mine[0]).to.include({ event_type: 'organization.created', attempts: 0, response_status: null, latency_ms: null });
    expect(mine[0].message_id).to.equal(`msg_${mine[0].event_id}`);
    const none = await stack.request.get(`/webhooks/${other.id}/deliveries`).set(auth(admin)).expect(200);
    expect(none.body.items.filter((d: { organization_id: string }) => d.organization_id === org.id)).to.have.length(0);
    await stack.request.get(`/webhooks/${subscribed.id}/deliveries`).query({ status: 'sent' }).set(auth(admin)).expect(400);
  });

  it('when a delivery is redelivered, then 202 with a new pending delivery of the same message; one of another endpoint is a 404', async () => {
    const endpoint = (await register({ events: ['organization.created'] })).body;
    const other = (await register({ events: ['organization.created'] })).body;
    await createOrganization(stack);
    const [first] = (await stack.request.get(`/webhooks/${endpoint.id}/deliveries`).set(auth(admin)).expect(200)).body.items;
    const res = await stack.request.post(`/webhooks/${endpoint.id}/deliveries/${first.id}/redeliver`).set(auth(admin)).expect(202);
    expect(res.body).to.include({ status: 'pending', attempts: 0, redelivery_of: first.id, message_id: first.message_id, event_id: first.event_id });
    await stack.request.post(`/webhooks/${other.id}/deliveries/${first.id}/redeliver`).set(auth(admin)).expect(404);
    const pending = await stack.request.get(`/webhooks/${endpoint.id}/deliveries`).query({ status: 'pending' }).set(auth(admin)).expect(200);
    expect(pending.body.items.map((d: { id: string }) => d.id)).to.include.members([first.id, res.body.id]);
  });

  it('when finished deliveries are older than the retention (30 days), then the sweep deletes them and keeps pending and recent ones', async () => {
    const endpoint = (await register({ events: ['organization.created'] })).body;
    const [old, waiting, recent] = [await createOrganization(stack), await createOrganization(stack), await createOrganization(stack)];
    const db = createControlDataSource(stack.config.database);
    await db.initialize();
    try {
      const age = `now() - interval '31 days'`;
      await db.query(`UPDATE webhook_deliveries SET status = 'delivered', created_at = ${age} WHERE endpoint_id = $1 AND org_id = $2`, [endpoint.id, old.id]);
      await db.query(`UPDATE webhook_deliveries SET created_at = ${age} WHERE endpoint_id = $1 AND org_id = $2`, [endpoint.id, waiting.id]);
      await db.query(`UPDATE webhook_deliveries SET status = 'failed' WHERE endpoint_id = $1 AND org_id = $2`, [endpoint.id, recent.id]);
      const lanes: unknown[] = [];
      const sweeper = new WebhookDeliveryService({
        store: new WebhookStore(db, new SecretBox(stack.config.secrets.current)),
        settings: stack.config.webhooks,
        send: () => Promise.reject(new Error('the sweep sends nothing')),
        enqueueLane: async (lane) => lanes.push(lane),
        wakeLane: async (lane) => lanes.push(lane),
        logger: stack.logger,
      });
      expect((await sweeper.sweep()).pruned).to.equal(1);
      const left = (await stack.request.get(`/webhooks/${endpoint.id}/deliveries`).set(auth(admin)).expect(200)).body.items;
      expect(left.map((d: { organization_id: string }) => d.organization_id).sort()).to.deep.equal([waiting.id, recent.id].sort());
      // The pending one's lane was handed to the queue.
      expect(lanes).to.deep.include({ endpointId: endpoint.id, orgId: waiting.id });
    } finally {
      await db.destroy();
    }
  });

  describe('with WEBHOOK_ALLOW_PRIVATE=true', () => {
    let open: TestStack;
    let openAdmin: string;

    before(async () => {
      open = await startStack({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
      openAdmin = await open.adminToken();
    });
    after(() => open?.stop());

    it('when the URL points at a cloud metadata or link-local address, in any form, then 400 problem+json naming body.url', async () => {
      for (const url of [
        'http://169.254.169.254/latest/meta-data',
        'http://[::ffff:169.254.169.254]/latest/meta-data',
        'http://[fd00:ec2::254]/latest/meta-data',
        'http://[::169.254.169.254]/latest/meta-data',
        'http://[64:ff9b::169.254.169.254]/latest/meta-data',
        'http://169.254.170.2/v2/credentials',
        'http://[fe80::1]/hook',
      ]) {
        const res = await open.request
          .post('/webhooks')
          .set(auth(openAdmin))
          .send({ url, events: ['organization.active'] })
          .expect(400);
        expect(res.headers['content-type'], url).to.match(/^application\/problem\+json/);
        expect(res.body.errors[0], url).to.include({ field: 'body.url' });
        expect(res.body.errors[0].message, url).to.match(/cannot be called.*cloud instance metadata/);
      }
    });

    it('when the URL points at a loopback or private receiver, then it is registered (201)', async () => {
      for (const url of ['http://127.0.0.1:8080/hook', 'http://[::1]/hook', 'http://10.1.2.3/hook', 'http://[fd12:3456::1]/hook']) {
        const res = await open.request
          .post('/webhooks')
          .set(auth(openAdmin))
          .send({ url, events: ['organization.active'] })
          .expect(201);
        expect(res.body.url).to.equal(url);
      }
    });
  });
});
