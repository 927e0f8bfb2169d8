import { expect } from 'chai';
import { createOrganization, deleteOrganization, waitForStatus } from './support/organizations';
import { collectText, parseSse } from './support/sse';
import { startStack, type TestStack } from './support/stack';

describe('Status push: Prefer: wait long-poll and the SSE stream', () => {
  let stack: TestStack;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  // No worker at first: organizations stay `pending` until a test starts one.
  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(() => stack.stop());

  it('when a client long-polls a pending organization, then the answer comes as soon as the status changes, with Preference-Applied', async () => {
    const org = await createOrganization(stack);
    const started = Date.now();
    const poll = stack.request
      .get(`/organizations/${org.id}/status`)
      .set('Authorization', await auth())
      .set('Prefer', 'wait=20');
    setTimeout(() => void stack.startWorker(), 500);
    const res = await poll.expect(200);
    const elapsed = Date.now() - started;
    expect(res.headers['preference-applied']).to.equal('wait=20');
    expect(res.body.status).to.not.equal('pending');
    expect(elapsed).to.be.within(400, 10000);
  });

  it('when nothing changes, then the answer comes after N seconds, and N is capped at 30', async () => {
    const org = await createOrganization(stack);
    const started = Date.now();
    const res = await stack.request
      .get(`/organizations/${org.id}`)
      .set('Authorization', await auth())
      .set('Prefer', 'wait=1')
      .expect(200);
    expect(Date.now() - started).to.be.within(900, 5000);
    expect(res.body.status).to.equal('pending');
    expect(res.headers['preference-applied']).to.equal('wait=1');
    expect(res.headers['retry-after']).to.equal('2');

    // A tombstone never changes, so even wait=600 (capped to 30) answers at once.
    await stack.startWorker();
    await waitForStatus(stack, org.id, ['active']);
    await deleteOrganization(stack, org.id);
    const capped = await stack.request
      .get(`/organizations/${org.id}/status`)
      .set('Authorization', await auth())
      .set('Prefer', 'wait=600')
      .expect(200);
    expect(capped.headers['preference-applied']).to.equal('wait=30');
    const plain = await stack.request
      .get(`/organizations/${org.id}/status`)
      .set('Authorization', await auth())
      .expect(200);
    expect(plain.headers['preference-applied']).to.equal(undefined);
  });

  it('when the organization is already active, then a long-poll answers at once instead of waiting for a change that is not coming', async () => {
    await stack.startWorker();
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    const started = Date.now();
    const res = await stack.request
      .get(`/organizations/${org.id}/status`)
      .set('Authorization', await auth())
      .set('Prefer', 'wait=20')
      .expect(200);
    expect(Date.now() - started).to.be.below(1000);
    expect(res.body.status).to.equal('active');
    expect(res.headers['preference-applied']).to.equal('wait=20');
  });

  it('when a client follows the SSE stream, then it receives pending, provisioning and active in order and the stream ends', async () => {
    const org = await createOrganization(stack);
    setTimeout(() => void stack.startWorker(), 300);
    const res = await stack.request
      .get(`/organizations/${org.id}/events`)
      .set('Authorization', await auth())
      .buffer(true)
      .parse(collectText)
      .expect(200);
    expect(res.headers['content-type']).to.match(/^text\/event-stream/);
    const frames = parseSse(res.body as string);
    const statuses = frames.map((f) => f.data.status);
    expect(statuses[0]).to.equal('pending');
    expect(statuses).to.include('provisioning');
    expect(statuses[statuses.length - 1]).to.equal('active');
    const ids = frames.map((f) => BigInt(f.id));
    expect(
      ids.every((id, i) => i === 0 || id > ids[i - 1]),
      'event ids strictly increase',
    ).to.equal(true);
    expect(frames.every((f) => f.event === 'status' && f.data.id === org.id)).to.equal(true);

    // Reconnecting with Last-Event-ID replays what came after it, then ends (already active).
    const resumed = await stack.request
      .get(`/organizations/${org.id}/events`)
      .set('Authorization', await auth())
      .set('Last-Event-ID', frames[0].id)
      .buffer(true)
      .parse(collectText)
      .expect(200);
    expect(parseSse(resumed.body as string).map((f) => f.id)).to.deep.equal(frames.slice(1).map((f) => f.id));
  });

  it('when the id is given in upper case, then the stream follows the same organization live and ends as soon as it is active', async () => {
    const org = await createOrganization(stack);
    setTimeout(() => void stack.startWorker(), 300);
    const started = Date.now();
    const res = await stack.request
      .get(`/organizations/${org.id.toUpperCase()}/events`)
      .set('Authorization', await auth())
      .buffer(true)
      .parse(collectText)
      .expect(200);
    const frames = parseSse(res.body as string);
    expect(frames[frames.length - 1].data).to.include({ id: org.id, status: 'active' });
    // Live pub/sub events, not the 15 s heartbeat's re-read, ended the stream.
    expect(Date.now() - started).to.be.below(10000);
  });

  it('when the organization does not exist, then the stream answers 404 problem+json instead of starting', async () => {
    const res = await stack.request
      .get('/organizations/0b6f0f5e-5f0e-4c71-9a59-2f1b8c8f2a11/events')
      .set('Authorization', await auth())
      .expect(404);
    expect(res.type).to.equal('application/problem+json');
  });
});
