import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sendWebhook } from '@orgms/worker/webhooks/webhook-sender';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import type { Response } from 'supertest';
import { schemaViolations } from './support/contract';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

type Mode = 'ok' | 'unavailable' | 'hang';

interface Received {
  /** Each endpoint of a spec has a path of its own. */
  path: string;
  messageId: string;
  type: string;
  orgId: string;
  eventId: number;
  status: string;
  timestamp: string;
  receivedAt: number;
  signatures: string[];
  body: string;
  headers: Record<string, string>;
}

/**
 * A real webhook receiver: it verifies every request with the Standard Webhooks library and the
 * secrets it is given (a request that does not verify is refused with 400 and counted), answers
 * as its mode says (`ok`: 204; `unavailable`: 503; `hang`: never), and keeps what it acknowledged.
 */
class Receiver {
  mode: Mode = 'ok';
  /** The secrets of every endpoint registered to it. */
  secrets: string[] = [];
  acknowledged: Received[] = [];
  /** Requests seen, acknowledged or not. */
  requests = 0;
  unverified = 0;
  private server: Server = createServer((req, res) => void this.handle(req, res));
  private hanging = new Set<() => void>();

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const release of this.hanging) release();
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Waits until `predicate` holds for what was acknowledged. */
  async waitFor(predicate: () => boolean, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`receiver: condition not met in ${timeoutMs} ms (${this.acknowledged.length} acknowledged)`);
      await sleep(20);
    }
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests += 1;
    const headers = req.headers as Record<string, string>;
    // Any one of the receiver's secrets verifying is enough (a receiver in the middle of a rotation).
    const verified = this.secrets.some((secret) => {
      try {
        new Webhook(secret).verify(body, headers);
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) {
      this.unverified += 1;
      res.writeHead(400).end();
      return;
    }
    if (this.mode === 'unavailable') {
      res.writeHead(503).end();
      return;
    }
    if (this.mode === 'hang') {
      await new Promise<void>((resolve) => {
        this.hanging.add(resolve);
        req.socket.once('close', resolve);
      });
      return;
    }
    const event = JSON.parse(body);
    this.acknowledged.push({
      path: req.url ?? '',
      messageId: headers['webhook-id'],
      type: event.type,
      orgId: event.data.organization.id,
      eventId: Number(event.data.event_id),
      status: event.data.organization.status,
      timestamp: event.timestamp,
      receivedAt,
      signatures: headers['webhook-signature'].split(' '),
      body,
      headers,
    });
    res.writeHead(204).end();
  }
}

/** A port with nothing listening: every attempt to it is refused at once. */
async function closedPort(): Promise<number> {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const { port } = closed.address() as AddressInfo;
  closed.close();
  await once(closed, 'close');
  return port;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('Webhook delivery (a real receiver)', function () {
  this.timeout(180000);
  let stack: TestStack;
  let admin: string;
  let receiver: Receiver;
  let base: string;
  let endpoints = 0;

  before(async () => {
    stack = await startStack({
      worker: true,
      env: {
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_TIMEOUT_MS: '500',
        WEBHOOK_RETRY_BASE_MS: '100',
        WEBHOOK_MAX_AGE_MS: '15000',
        WEBHOOK_SWEEP_INTERVAL_MS: '1000',
      },
    });
    admin = await stack.adminToken();
    receiver = new Receiver();
    base = await receiver.start();
  });
  after(async () => {
    await receiver.stop();
    await stack.stop();
  });

  interface Endpoint {
    id: string;
    secret: string;
    path: string;
  }

  /** Registers an endpoint on its own path of the receiver (or at `target`), whose secret the receiver then accepts. */
  async function register(events: string[], target?: string): Promise<Endpoint> {
    endpoints += 1;
    const path = `/hooks/${endpoints}`;
    const res = await stack.request
      .post('/webhooks')
      .set(auth(admin))
      .send({ url: target ?? `${base}${path}`, events })
      .expect(201);
    receiver.secrets.push(res.body.secret);
    return { id: res.body.id, secret: res.body.secret, path };
  }

  /** What the receiver acknowledged for `endpoint` (of `orgId`, when given). */
  const at = (endpoint: Endpoint, orgId?: string) => receiver.acknowledged.filter((e) => e.path === endpoint.path && (!orgId || e.orgId === orgId));

  async function deliveries(endpointId: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await stack.request
        .get(`/webhooks/${endpointId}/deliveries`)
        .query({ limit: 100, ...(cursor ? { cursor } : {}) })
        .set(auth(admin))
        .expect(200);
      items.push(...res.body.items);
      cursor = res.body.next_cursor;
    } while (cursor);
    return items;
  }

  const rename = (orgId: string) =>
    stack.request
      .patch(`/organizations/${orgId}`)
      .set(auth(admin))
      .send({ organization_name: uniqueName('Renamed') })
      .expect(200);

  /** The event ids the receiver acknowledged for `endpoint` and `orgId`, in the order it acknowledged them, each message once. */
  function acknowledgedOrder(endpoint: Endpoint, orgId: string): number[] {
    const seen = new Set<string>();
    return at(endpoint, orgId)
      .filter((r) => !seen.has(r.messageId) && seen.add(r.messageId))
      .map((r) => r.eventId);
  }

  afterEach(() => {
    receiver.mode = 'ok';
  });

  it('when organizations change, then each event arrives signed, with the organization as it was and the request id that caused it', async () => {
    const endpoint = await register(['organization.created', 'organization.provisioning', 'organization.active', 'organization.renamed']);
    const org = await createActiveOrganization(stack);
    const renamed = await rename(org.id);
    await receiver.waitFor(() => at(endpoint, org.id).length >= 4);

    const events = at(endpoint, org.id);
    expect(events.map((e) => e.type)).to.deep.equal(['organization.created', 'organization.provisioning', 'organization.active', 'organization.renamed']);
    // Each carries the organization as it was in the transaction of its event.
    expect(events.map((e) => e.status)).to.deep.equal(['pending', 'provisioning', 'active', 'active']);
    const last = JSON.parse(events[3].body);
    expect(last.data.organization.name).to.equal(renamed.body.name);
    expect(last.data.request_id).to.equal(renamed.headers['x-request-id']);
    expect(last.data.previous_status).to.equal('active');
    expect(JSON.parse(events[0].body).data.previous_status).to.equal(null);
    expect(events[0].headers['content-type']).to.equal('application/json');
    expect(Number(events[0].headers['webhook-timestamp'])).to.be.closeTo(Date.now() / 1000, 60);
    expect(receiver.unverified).to.equal(0);
    for (const event of events) expect(schemaViolations('WebhookEvent', JSON.parse(event.body))).to.deep.equal([]);
    // The organization is its whole API representation: what GET answers now, nothing having changed since.
    const current = await stack.request.get(`/organizations/${org.id}`).set(auth(admin)).expect(200);
    expect(last.data.organization).to.deep.equal(current.body);

    const recorded = await deliveries(endpoint.id);
    expect(recorded.filter((d) => d.organization_id === org.id).every((d) => d.status === 'delivered' && d.response_status === 204)).to.equal(true);
  });

  it('when the receiver fails (503, then timeouts) and a worker restarts meanwhile, then every event is delivered once it is back, in order per organization, none lost', async () => {
    const endpoint = await register(['organization.created', 'organization.provisioning', 'organization.active', 'organization.renamed']);
    receiver.mode = 'unavailable';
    const orgs = await Promise.all([1, 2, 3].map(() => createActiveOrganization(stack)));
    for (const org of orgs) await rename(org.id);
    await sleep(800);
    receiver.mode = 'hang';
    // No worker for a while: events keep happening, their deliveries wait in the control database.
    await stack.worker?.stop();
    for (const org of orgs) await rename(org.id);
    stack.worker = await stack.startWorker();
    await sleep(1200);
    expect(at(endpoint)).to.have.length(0);
    const outageEnded = Date.now();
    receiver.mode = 'ok';

    // 3 organizations × (created, provisioning, active, renamed × 2).
    await receiver.waitFor(() => new Set(at(endpoint).map((e) => e.messageId)).size >= 15);
    const recovery = Date.now() - outageEnded;
    for (const org of orgs) {
      const order = acknowledgedOrder(endpoint, org.id);
      expect(order, `events of ${org.id}`).to.have.length(5);
      expect(order, `order of ${org.id}`).to.deep.equal([...order].sort((a, b) => a - b));
    }
    // The receiver answers before the worker records it: the last record may lag a moment.
    let recorded = await deliveries(endpoint.id);
    for (let i = 0; i < 100 && !recorded.every((d) => d.status === 'delivered'); i += 1) {
      await sleep(50);
      recorded = await deliveries(endpoint.id);
    }
    expect(recorded).to.have.length(15);
    expect(recorded.map((d) => d.status)).to.deep.equal(Array(15).fill('delivered'));
    const retried = recorded.filter((d) => (d.attempts as number) > 1);
    expect(retried.length).to.be.greaterThan(0);
    expect(receiver.unverified).to.equal(0);
    console.log(
      `      outage: ${retried.length}/15 deliveries needed retries (max ${Math.max(...recorded.map((d) => d.attempts as number))} attempts); ` +
        `all delivered ${recovery} ms after the receiver came back`,
    );
  });

  it('when the secret is rotated, then deliveries carry signatures by the new and the old secret, each verifying on its own', async () => {
    const endpoint = await register(['organization.renamed']);
    const rotated = (await stack.request.post(`/webhooks/${endpoint.id}/rotate-secret`).set(auth(admin)).expect(200)).body;
    receiver.secrets.push(rotated.secret);
    const org = await createOrganization(stack);
    await rename(org.id);
    await receiver.waitFor(() => at(endpoint, org.id).length > 0);
    const [event] = at(endpoint, org.id);
    expect(event.signatures).to.have.length(2);
    for (const secret of [rotated.secret, endpoint.secret]) expect(() => new Webhook(secret).verify(event.body, event.headers)).to.not.throw();
    expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(event.body, event.headers)).to.throw();
  });

  it('when a delivery is redelivered, then the receiver gets the same event again with the same webhook-id', async () => {
    const endpoint = await register(['organization.created']);
    const org = await createOrganization(stack);
    await receiver.waitFor(() => at(endpoint, org.id).length > 0);
    const [delivery] = await deliveries(endpoint.id);
    const res = await stack.request.post(`/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`).set(auth(admin)).expect(202);
    await receiver.waitFor(() => at(endpoint, org.id).length === 2);
    const [first, again] = at(endpoint, org.id);
    expect(again.messageId).to.equal(first.messageId);
    expect(again.body).to.equal(first.body);
    await waitForDelivered(endpoint.id, res.body.id as string);
  });

  async function waitForDelivered(endpointId: string, deliveryId: string): Promise<void> {
    for (let i = 0; i < 200; i += 1) {
      if ((await deliveries(endpointId)).find((d) => d.id === deliveryId)?.status === 'delivered') return;
      await sleep(50);
    }
    throw new Error(`delivery ${deliveryId} not delivered`);
  }

  it('when an endpoint never answers for WEBHOOK_MAX_AGE_MS, then its delivery fails and the endpoint is failing; a later success makes it active again', async () => {
    const endpoint = await register(['organization.created'], `http://127.0.0.1:${await closedPort()}/gone`);
    const org = await createOrganization(stack);
    let failing: Record<string, unknown> = {};
    for (let i = 0; i < 400 && failing.status !== 'failing'; i += 1) {
      failing = (await stack.request.get(`/webhooks/${endpoint.id}`).set(auth(admin)).expect(200)).body;
      await sleep(100);
    }
    expect(failing.status).to.equal('failing');
    expect(failing.failing_since).to.be.a('string');
    expect(failing.last_error).to.match(/ECONNREFUSED/);
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery).to.include({ status: 'failed', organization_id: org.id, response_status: null });
    expect(delivery.attempts).to.be.greaterThan(3);

    // The receiver is reachable again: a redelivery succeeds and the endpoint is active.
    await stack.request
      .patch(`/webhooks/${endpoint.id}`)
      .set(auth(admin))
      .send({ url: `${base}${endpoint.path}` })
      .expect(200);
    const again = await stack.request.post(`/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`).set(auth(admin)).expect(202);
    await waitForDelivered(endpoint.id, again.body.id);
    const active = (await stack.request.get(`/webhooks/${endpoint.id}`).set(auth(admin)).expect(200)).body;
    expect(active).to.include({ status: 'active', failing_since: null, last_error: null });
  });

  it('when an endpoint that fails gets a new URL, then its waiting deliveries go at once (next sweep), not at their next retry', async () => {
    const endpoint = await register(['organization.created'], `http://127.0.0.1:${await closedPort()}/gone`);
    const org = await createOrganization(stack);
    // Six failed attempts (0.1 s apart, doubling): the next retry is about 3.2 s away.
    let delivery: Record<string, unknown> = {};
    for (let i = 0; i < 200 && ((delivery.attempts as number) ?? 0) < 6; i += 1) {
      [delivery] = await deliveries(endpoint.id);
      await sleep(25);
    }
    expect(Date.parse(delivery.next_attempt_at as string) - Date.now()).to.be.greaterThan(2000);
    const changedAt = Date.now();
    await stack.request
      .patch(`/webhooks/${endpoint.id}`)
      .set(auth(admin))
      .send({ url: `${base}${endpoint.path}` })
      .expect(200);
    await receiver.waitFor(() => at(endpoint, org.id).length > 0, 10000);
    // The sweep runs every second here (WEBHOOK_SWEEP_INTERVAL_MS).
    expect(Date.now() - changedAt).to.be.below(2000);
  });

  it('when organizations are deleted and restored, then organization.deleted and organization.active arrive, in order', async () => {
    const endpoint = await register(['organization.active', 'organization.deleted']);
    const org = await createActiveOrganization(stack);
    const deleted = await stack.request.delete(`/organizations/${org.id}`).set(auth(admin)).expect(200);
    const readDeleted = await stack.request.get(`/organizations/${org.id}`).set(auth(admin)).expect(200);
    await stack.request.post(`/organizations/${org.id}/restore`).set(auth(admin)).send({}).expect(200);
    await receiver.waitFor(() => at(endpoint, org.id).length >= 3);
    const events = at(endpoint, org.id);
    expect(events.map((e) => `${e.type} ${e.status}`)).to.deep.equal([
      'organization.active active',
      'organization.deleted deleted',
      'organization.active active',
    ]);
    // The deletion's event carries the organization exactly as the DELETE answered it, grace period included.
    expect(JSON.parse(events[1].body).data.organization).to.deep.equal(deleted.body);
    expect(JSON.parse(events[1].body).data.organization).to.deep.equal(readDeleted.body);
    expect(deleted.body.purge_after).to.be.a('string');
  });

  it('when an endpoint is deleted, then nothing more is sent to it', async () => {
    const endpoint = await register(['organization.renamed']);
    receiver.mode = 'unavailable';
    const org = await createOrganization(stack);
    await rename(org.id);
    await stack.request.delete(`/webhooks/${endpoint.id}`).set(auth(admin)).expect(204);
    // An attempt already under way may still land; none starts after the delete (one attempt lasts at most WEBHOOK_TIMEOUT_MS).
    await sleep(600);
    receiver.mode = 'ok';
    await sleep(1500);
    expect(at(endpoint)).to.have.length(0);
  });

  it('when a host resolves to a private address at delivery time and private targets are not allowed, then nothing is sent; when allowed, the checked address is the one connected to', async () => {
    const before = receiver.requests;
    const port = new URL(base).port;
    // A name whose DNS now answers with a loopback address (rebinding after a public answer at registration).
    const rebound = async () => [{ address: '127.0.0.1', family: 4 }];
    const refused = await sendWebhook({
      url: `http://rebind.test:${port}/hooks`,
      body: '{}',
      headers: {},
      timeoutMs: 500,
      allowPrivate: false,
      resolve: rebound,
    });
    expect(refused).to.include({ ok: false, responseStatus: null });
    expect(refused.error).to.match(/^refused: .*127\.0\.0\.1.*not a public address/);
    expect(receiver.requests).to.equal(before);

    // Allowed: the request goes to the address the check resolved (no second lookup of rebind.test, which has no DNS).
    const sent = await sendWebhook({ url: `http://rebind.test:${port}/hooks`, body: '{}', headers: {}, timeoutMs: 500, allowPrivate: true, resolve: rebound });
    expect(sent.responseStatus).to.equal(400); // unsigned: the receiver refuses it, but it did reach it
    expect(receiver.requests).to.equal(before + 1);
  });

  it('when a lane waits for a retry, then Bull Board shows its job, delayed, on the webhooks queue', async () => {
    const endpoint = await register(['organization.created'], `http://127.0.0.1:${await closedPort()}/gone`);
    const org = await createOrganization(stack);
    const jobId = `webhooks-${endpoint.id}-${org.id}`;
    let state = '';
    for (let i = 0; i < 100 && state !== 'delayed'; i += 1) {
      state = (await (await stack.api.queues.webhooks.getJob(jobId))?.getState()) ?? '';
      await sleep(20);
    }
    expect(state).to.equal('delayed');
    const res = await stack.request.get('/admin/queues/api/queues').query({ activeQueue: 'webhooks', status: 'delayed' }).set(auth(admin)).expect(200);
    const webhooks = res.body.queues.find((q: { name: string }) => q.name === 'webhooks');
    expect(webhooks, 'the webhooks queue').to.exist;
    expect(webhooks.jobs.map((j: { id: string }) => j.id)).to.include(jobId);
    await stack.request.delete(`/webhooks/${endpoint.id}`).set(auth(admin)).expect(204);
  });

  it('when the caller is not a platform admin, then 401 without a token and 403 with an organization admin token', async () => {
    const endpoint = await register(['organization.active']);
    await stack.request.get('/webhooks').expect(401);
    const org = await createActiveOrganization(stack);
    const orgAdmin = auth(await orgLogin(stack, org.id, org.email, org.password));
    await stack.request.get('/webhooks').set(orgAdmin).expect(403);
    await stack.request
      .post('/webhooks')
      .set(orgAdmin)
      .send({ url: `${base}/hooks/refused`, events: ['organization.active'] })
      .expect(403);
    await stack.request.get(`/webhooks/${endpoint.id}`).set(orgAdmin).expect(403);
    await stack.request.patch(`/webhooks/${endpoint.id}`).set(orgAdmin).send({ description: 'x' }).expect(403);
    await stack.request.delete(`/webhooks/${endpoint.id}`).set(orgAdmin).expect(403);
    await stack.request.post(`/webhooks/${endpoint.id}/rotate-secret`).set(orgAdmin).expect(403);
    await stack.request.get(`/webhooks/${endpoint.id}/deliveries`).set(orgAdmin).expect(403);
  });

  it('when 200 events happen, one at a time and then in a burst, then the delay from event to receiver is measured (p50, p99)', async () => {
    const endpoint = await register(['organization.renamed']);
    const orgs = await Promise.all([1, 2, 3, 4].map(() => createOrganization(stack)));
    await Promise.all(orgs.map((org) => waitForStatus(stack, org.id, ['active'])));
    const delaysOf = (events: Received[]) => events.map((e) => e.receivedAt - Date.parse(e.timestamp)).sort((a, b) => a - b);
    const summary = (delays: number[]) =>
      `p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${delays[delays.length - 1]} ms over ${delays.length} events`;

    // One at a time: each event is delivered before the next happens.
    for (let i = 0; i < 200; i += 1) {
      await rename(orgs[i % orgs.length].id);
      await receiver.waitFor(() => at(endpoint).length > i, 10000);
    }
    const single = delaysOf(at(endpoint));
    console.log(`      event → receiver, one at a time: ${summary(single)}`);
    expect(percentile(single, 50)).to.be.below(200);
    receiver.acknowledged = receiver.acknowledged.filter((e) => e.path !== endpoint.path);

    // 4 organizations renamed 50 times each, concurrently: 200 events.
    await Promise.all(
      orgs.map(async (org) => {
        for (let i = 0; i < 50; i += 1) await rename(org.id);
      }),
    );
    await receiver.waitFor(() => at(endpoint).length >= 200, 60000);
    const delays = delaysOf(at(endpoint));
    for (const org of orgs) expect(acknowledgedOrder(endpoint, org.id)).to.deep.equal([...acknowledgedOrder(endpoint, org.id)].sort((a, b) => a - b));
    console.log(`      event → receiver, a burst (4 organizations renamed 50 times each, at once): ${summary(delays)}`);
    expect(percentile(delays, 50)).to.be.below(5000);
  });
});
