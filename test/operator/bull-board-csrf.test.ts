import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Test } from 'supertest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from '../support/stack';

const basic = `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}`;
const HOST = 'orgms.test:3000';
const OWN_ORIGIN = `http://${HOST}`;
const ADD = '/admin/queues/api/queues/provisioning/add';

/** What the dashboard's own page sends for "Add job": same-origin fetch metadata and a JSON body. */
const sameOrigin = (req: Test) => req.set('Host', HOST).set('Authorization', basic).set('Origin', OWN_ORIGIN).set('Sec-Fetch-Site', 'same-origin');

describe('Bull Board refuses cross-site state changes', () => {
  // No worker: an enqueued job stays in the queue, where the spec can see it.
  let stack: TestStack;
  /** Clients reach this one at PUBLIC_URL through a proxy that Express does not trust. */
  let proxied: TestStack;
  before(async () => {
    [stack, proxied] = await Promise.all([startStack(), startStack({ env: { PUBLIC_URL: 'https://queues.example.com' } })]);
  });
  after(() => Promise.all([stack?.stop(), proxied?.stop()]));

  const jobCount = async (s: TestStack) => Object.values(await s.api.queues.provisioning.getJobCounts()).reduce((a, b) => a + b, 0);
  const jobData = () => ({ name: 'provision', data: { orgId: randomUUID(), requestId: `csrf-spec-${randomUUID()}` } });

  /** Asserts a 403 problem+json that enqueued nothing. */
  async function expectRefused(request: Test, s: TestStack = stack) {
    const before = await jobCount(s);
    const res = await request.expect(403);
    expect(res.type).to.equal('application/problem+json');
    expect(res.body).to.include({ status: 403, title: 'Forbidden' });
    expect(await jobCount(s), 'jobs in the queue').to.equal(before);
    return res;
  }

  it('when a text/plain POST (a "simple" cross-site request) asks to add a job, then 403 and nothing is enqueued', async () => {
    const res = await expectRefused(
      stack.request.post(ADD).set('Host', HOST).set('Authorization', basic).set('Content-Type', 'text/plain').send(JSON.stringify(jobData())),
    );
    expect(res.body.detail).to.match(/application\/json/);
  });

  it('when the same text/plain POST even claims to be same-origin, then 403: only JSON bodies are accepted', async () => {
    await expectRefused(sameOrigin(stack.request.post(ADD)).set('Content-Type', 'text/plain').send(JSON.stringify(jobData())));
  });

  it('when a form POST arrives, then 403', async () => {
    await expectRefused(sameOrigin(stack.request.post(ADD)).type('form').send({ name: 'provision' }));
  });

  it('when another site sends JSON (Origin of another site), then 403', async () => {
    const res = await expectRefused(
      stack.request.post(ADD).set('Host', HOST).set('Authorization', basic).set('Origin', 'https://evil.example').send(jobData()),
    );
    expect(res.body.detail).to.match(/origin/);
  });

  for (const site of ['cross-site', 'same-site']) {
    it(`when the browser labels the request Sec-Fetch-Site: ${site}, then 403`, async () => {
      await expectRefused(stack.request.post(ADD).set('Host', HOST).set('Authorization', basic).set('Sec-Fetch-Site', site).send(jobData()));
    });
  }

  it('when a cross-site request carries no credentials, then 403 before any authentication', async () => {
    await expectRefused(stack.request.put('/admin/queues/api/queues/pause').set('Host', HOST).set('Origin', 'https://evil.example'));
  });

  it('when Origin is "null" (a sandboxed page or a data: URL), then 403', async () => {
    await expectRefused(stack.request.post(ADD).set('Host', HOST).set('Authorization', basic).set('Origin', 'null').send(jobData()));
  });

  it('when the dashboard page itself adds a job (same origin, JSON), then the job is enqueued', async () => {
    const job = jobData();
    const res = await sameOrigin(stack.request.post(ADD)).send(job).expect(200);
    const stored = await stack.api.queues.provisioning.getJob(res.body.job.id);
    expect(stored?.data).to.deep.equal(job.data);
    await stored?.remove();
  });

  it('when the dashboard page pauses and resumes a queue (PUT without a body), then both work', async () => {
    await sameOrigin(stack.request.put('/admin/queues/api/queues/provisioning/pause')).expect(200);
    expect(await stack.api.queues.provisioning.isPaused()).to.equal(true);
    await sameOrigin(stack.request.put('/admin/queues/api/queues/provisioning/resume')).expect(200);
    expect(await stack.api.queues.provisioning.isPaused()).to.equal(false);
  });

  it('when a script without browser headers (curl) sends JSON with credentials, then it works', async () => {
    const res = await stack.request.post(ADD).set('Authorization', basic).send(jobData()).expect(200);
    await (await stack.api.queues.provisioning.getJob(res.body.job.id))?.remove();
  });

  it('when reads come from anywhere, then they are not refused (GET is no state change)', async () => {
    await stack.request
      .get('/admin/queues/api/queues')
      .set('Authorization', basic)
      .set('Origin', 'https://evil.example')
      .set('Sec-Fetch-Site', 'cross-site')
      .expect(200);
  });

  describe('behind a TLS proxy that is not trusted, with PUBLIC_URL set', () => {
    it("when the page at PUBLIC_URL's origin adds a job, then it is accepted", async () => {
      const res = await proxied.request
        .post(ADD)
        .set('Host', 'queues.example.com')
        .set('Authorization', basic)
        .set('Origin', 'https://queues.example.com')
        .set('Sec-Fetch-Site', 'same-origin')
        .send(jobData())
        .expect(200);
      await (await proxied.api.queues.provisioning.getJob(res.body.job.id))?.remove();
    });

    it('when another origin sends the same request, then 403', async () => {
      await expectRefused(
        proxied.request
          .post(ADD)
          .set('Host', 'queues.example.com')
          .set('Authorization', basic)
          .set('Origin', 'https://queues.example.com.evil.example')
          .send(jobData()),
        proxied,
      );
    });
  });
});
