import { expect } from 'chai';
import { ManualClock } from './support/manual-clock';
import { auth, createActiveOrganization, orgLogin } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Request rates per organization and per platform admin (docs/api/limits.md)', () => {
  let stack: TestStack;
  // The clock stands still inside a test, so no window ends in the middle of one; each test starts a new window.
  const clock = new ManualClock();
  let acme: CreatedOrg;
  let globex: CreatedOrg;

  before(async () => {
    stack = await startStack({
      worker: true,
      clock,
      // The platform admin's reads stay high (the setup polls statuses); its expensive operations are tight.
      env: { RATE_LIMIT_WINDOW_MS: '60000', RATE_LIMIT_READS: '4', RATE_LIMIT_WRITES: '5', RATE_LIMIT_EXPENSIVE: '1', PLATFORM_RATE_LIMIT_EXPENSIVE: '2' },
    });
    [acme, globex] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
  });
  beforeEach(() => clock.advance(60000));
  after(() => stack.stop());

  const tokenOf = (org: CreatedOrg) => orgLogin(stack, org.id, org.email, org.password);
  const readUsers = (org: CreatedOrg, token: string) => stack.request.get(`/organizations/${org.id}/users`).set(auth(token));

  it("when an organization's users go over the reads limit, then they get 429 rate-limited with Retry-After and the RateLimit headers, while another organization still reads", async () => {
    const [acmeToken, globexToken] = await Promise.all([tokenOf(acme), tokenOf(globex)]);
    const first = await readUsers(acme, acmeToken).expect(200);
    expect(first.headers['ratelimit-policy']).to.equal('"reads";q=4;w=60');
    expect(first.headers.ratelimit).to.match(/^"reads";r=3;t=\d+$/);
    for (let i = 0; i < 3; i++) await readUsers(acme, acmeToken).expect(200);

    const refused = await readUsers(acme, acmeToken).expect(429);
    expect(refused.type).to.equal('application/problem+json');
    expect(refused.body).to.include({ type: 'https://orgms.dev/problems/rate-limited', status: 429 });
    expect(refused.body.rate_limit).to.deep.equal({ class: 'reads', scope: 'organization', limit: 4, window_seconds: 60 });
    expect(refused.headers['ratelimit-policy']).to.equal('"reads";q=4;w=60');
    const reset = Number(/t=(\d+)$/.exec(refused.headers.ratelimit)?.[1]);
    expect(refused.headers.ratelimit).to.equal(`"reads";r=0;t=${reset}`);
    expect(Number(refused.headers['retry-after'])).to.equal(reset).and.to.be.within(1, 60);

    // Decided before the organization is looked at: another organization's id is refused the same way, not 404.
    await readUsers(globex, acmeToken).expect(429);
    // Another organization, in the same window, is not affected.
    await readUsers(globex, globexToken).expect(200);
  });

  it('when a platform admin reads an organization that is over its limit, then its own (higher) limit applies, and its expensive requests are limited apart', async () => {
    const acmeToken = await tokenOf(acme);
    for (let i = 0; i < 4; i++) await readUsers(acme, acmeToken).expect(200);
    await readUsers(acme, acmeToken).expect(429);

    const admin = await stack.adminToken();
    const read = await readUsers(acme, admin).expect(200);
    expect(read.headers['ratelimit-policy']).to.equal('"reads";q=1000000;w=60');

    // Restoring an active organization is refused (409), but it is an expensive request all the same.
    const restore = () => stack.request.post(`/organizations/${acme.id}/restore`).set(auth(admin)).send({});
    await restore().expect(409);
    await restore().expect(409);
    const refused = await restore().expect(429);
    expect(refused.body.rate_limit).to.deep.equal({ class: 'expensive', scope: 'platform_admin', limit: 2, window_seconds: 60 });
  });

  it('when an organization asks for exports, then they count as expensive, not as writes', async () => {
    const acmeToken = await tokenOf(acme);
    const exportOnce = () => stack.request.post(`/organizations/${acme.id}/exports`).set(auth(acmeToken));
    const accepted = await exportOnce().expect(202);
    expect(accepted.headers.ratelimit).to.match(/^"expensive";r=0;t=\d+$/);
    const refused = await exportOnce().expect(429);
    expect(refused.body.rate_limit).to.include({ class: 'expensive', limit: 1 });

    const created = await stack.request
      .post(`/organizations/${acme.id}/users`)
      .set(auth(acmeToken))
      .send({ email: `writer-${Date.now()}@example.test`, password: 'correct horse battery' })
      .expect(201);
    expect(created.headers['ratelimit-policy']).to.equal('"writes";q=5;w=60');
    expect(created.headers.ratelimit).to.match(/^"writes";r=4;t=\d+$/);
  });

  it('when an organization has its own limit, then that limit applies to it instead of the default, and /metrics counts the refusals', async () => {
    const admin = await stack.adminToken();
    await stack.request
      .patch(`/organizations/${globex.id}/limits`)
      .set(auth(admin))
      .send({ requests: { reads: 1 } })
      .expect(200);
    const globexToken = await tokenOf(globex);
    const first = await readUsers(globex, globexToken).expect(200);
    expect(first.headers['ratelimit-policy']).to.equal('"reads";q=1;w=60');
    const refused = await readUsers(globex, globexToken).expect(429);
    expect(refused.body.rate_limit).to.include({ class: 'reads', limit: 1 });

    const metrics = await stack.request.get('/metrics').expect(200);
    expect(metrics.text).to.match(/^orgms_rate_limited_total\{class="reads",scope="organization"\} [1-9]\d*$/m);
    expect(metrics.text).to.match(/^orgms_rate_limit_unchecked_total 0$/m);
  });
});
