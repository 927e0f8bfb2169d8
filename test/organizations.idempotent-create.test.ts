import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Idempotent organization creates (Idempotency-Key)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ worker: true });
  });
  after(() => stack.stop());

  const body = () => ({ organization_name: uniqueName('Idem'), email: 'owner@idem.test', password: 'correct horse battery' });
  const post = async (path: string, key: string | undefined, payload: object, token?: string) => {
    const request = stack.request.post(path).set('Authorization', `Bearer ${token ?? (await stack.adminToken())}`);
    if (key !== undefined) request.set('Idempotency-Key', key);
    return request.send(payload);
  };
  const organizationsNamed = async (name: string) =>
    (await queryControlDatabase<{ n: number }>(stack, 'SELECT count(*)::int AS n FROM organizations WHERE name = $1', [name]))[0].n;

  it('when the same key and body are sent again, then the answer is the same organization in its current state, and only one exists', async () => {
    const key = randomUUID();
    const payload = body();
    const first = await post('/organizations', key, payload);
    expect(first.status).to.equal(202);
    await waitForStatus(stack, first.body.id, ['active']);
    const again = await post('/organizations', key, payload);
    expect(again.status).to.equal(202);
    expect(again.headers.location).to.equal(`/organizations/${first.body.id}`);
    expect(again.body).to.include({ id: first.body.id, status: 'active' });
    // The compatibility create shares the key space of its caller.
    const compat = await post('/org/create', key, payload);
    expect(compat.body.id).to.equal(first.body.id);
    expect(await organizationsNamed(payload.organization_name)).to.equal(1);
  });

  it('when the key comes again with a different body, then it is a 422 and nothing is created', async () => {
    const key = randomUUID();
    expect((await post('/organizations', key, body())).status).to.equal(202);
    const other = body();
    const res = await post('/organizations', key, other);
    expect(res.status).to.equal(422);
    expect(res.headers['content-type']).to.match(/application\/problem\+json/);
    expect(await organizationsNamed(other.organization_name)).to.equal(0);
  });

  it('when ten requests with one key arrive at once, then one organization is created and all ten answer it', async () => {
    const key = randomUUID();
    const payload = body();
    const token = await stack.adminToken();
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/organizations', key, payload, token)));
    expect(answers.map((a) => a.status)).to.deep.equal(Array(10).fill(202));
    expect(new Set(answers.map((a) => a.body.id)).size).to.equal(1);
    expect(await organizationsNamed(payload.organization_name)).to.equal(1);
  });

  it('when the first request with a key fails (name taken), then the key is free again and the same request answers the same error', async () => {
    const taken = body();
    expect((await post('/organizations', undefined, taken)).status).to.equal(202);
    const key = randomUUID();
    expect((await post('/organizations', key, { ...taken, email: 'other@idem.test' })).status).to.equal(409);
    expect((await post('/organizations', key, { ...taken, email: 'other@idem.test' })).status).to.equal(409);
  });

  it('when the key is not visible ASCII or too long, then it is a 400 and nothing is created', async () => {
    const payload = body();
    expect((await post('/organizations', 'x'.repeat(256), payload)).status).to.equal(400);
    expect((await post('/organizations', 'has space', payload)).status).to.equal(400);
    expect(await organizationsNamed(payload.organization_name)).to.equal(0);
  });

  it('when no key is sent, then two identical requests are two attempts (the second is a 409 for the name)', async () => {
    const payload = body();
    expect((await post('/organizations', undefined, payload)).status).to.equal(202);
    expect((await post('/organizations', undefined, payload)).status).to.equal(409);
  });
});
