import { expect } from 'chai';
import IORedis from 'ioredis';
import { createActiveOrganization } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { ADMIN_EMAIL, startStack, type TestStack } from './support/stack';

describe('Login throttling', () => {
  let stack: TestStack;
  let org: CreatedOrg;
  before(async () => {
    stack = await startStack({
      worker: true,
      // The suite plays a local proxy (TRUST_PROXY=loopback) so X-Forwarded-For lets it act as many clients.
      env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '8', LOGIN_RATE_LIMIT_WINDOW_MS: '60000', TRUST_PROXY: 'loopback' },
    });
    org = await createActiveOrganization(stack);
  });
  after(() => stack.stop());

  const login = (ip: string, body: Record<string, unknown>) => stack.request.post('/admin/login').set('X-Forwarded-For', ip).send(body);

  it('when one account fails too often, even from many addresses, then it answers 429 problem+json with Retry-After, even for the right password', async () => {
    const wrong = { organization_id: org.id, email: 'victim@example.test', password: 'guess' };
    for (let i = 1; i <= 3; i++) await login(`10.0.1.${i}`, wrong).expect(401);
    const res = await login('10.0.1.99', wrong).expect(429);
    expect(res.type).to.equal('application/problem+json');
    expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
    // The same email in another case and with spaces is the same account.
    await login('10.0.1.98', { ...wrong, email: ' VICTIM@example.test ' }).expect(429);
    // Another account is not affected.
    await login('10.0.1.97', { organization_id: org.id, email: org.email, password: org.password }).expect(200);
  });

  it('when one address trades refresh tokens too often, then it answers 429 like a login, and other addresses still refresh', async () => {
    const session = await login('10.0.6.1', { organization_id: org.id, email: org.email, password: org.password }).expect(200);
    const refresh = (ip: string, refreshToken: string) => stack.request.post('/auth/refresh').set('X-Forwarded-For', ip).send({ refresh_token: refreshToken });
    for (let i = 0; i < 8; i++) await refresh('10.0.6.2', `guessed-refresh-token-${i}`).expect(401);
    const res = await refresh('10.0.6.2', session.body.refresh_token).expect(429);
    expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
    await refresh('10.0.6.3', session.body.refresh_token).expect(200);
  });

  it('when an account logs in successfully many times, then it is not throttled (only failures count per account)', async () => {
    for (let i = 0; i < 5; i++) await login(`10.0.2.${i}`, { organization_name: org.name, email: org.email, password: org.password }).expect(200);
  });

  it('when one address makes too many attempts on any accounts, then it answers 429 and other addresses still get through', async () => {
    for (let i = 0; i < 8; i++) await login('10.0.3.1', { organization_id: org.id, email: `spray${i}@example.test`, password: 'guess' }).expect(401);
    const res = await login('10.0.3.1', { organization_id: org.id, email: org.email, password: org.password }).expect(429);
    expect(res.headers['retry-after']).to.match(/^\d+$/);
    await login('10.0.3.2', { organization_id: org.id, email: org.email, password: org.password }).expect(200);
  });

  it('when platform admin logins fail too often, then /auth/login is throttled too', async () => {
    const post = () => stack.request.post('/auth/login').set('X-Forwarded-For', '10.0.4.1').send({ email: ADMIN_EMAIL, password: 'wrong password' });
    for (let i = 0; i < 3; i++) await post().expect(401);
    await post().expect(429);
  });

  it('when an account is locked by name, then naming its organization by id in another spelling is the same locked account', async () => {
    const victim = { email: 'spelling@example.test', password: 'guess' };
    for (let i = 1; i <= 3; i++) await login(`10.0.5.${i}`, { organization_name: org.name, ...victim }).expect(401);
    await login('10.0.5.10', { organization_id: org.id, ...victim }).expect(429);
    await login('10.0.5.11', { organization_id: org.id.toUpperCase(), ...victim }).expect(429);
    await login('10.0.5.12', { organization_name: org.name.toUpperCase(), ...victim }).expect(429);
    // Other spellings PostgreSQL would fold to the same uuid are refused at the edge.
    for (const spelling of [org.id.replace(/-/g, ''), `{${org.id}}`, org.id.replace(/-/g, ':')]) {
      await login('10.0.5.13', { organization_id: spelling, ...victim }).expect(400);
    }
  });

  it('when requests are malformed (400), then they never lock the account: only failed credential checks count', async () => {
    for (let i = 0; i < 10; i++) await login(`10.0.6.${i}`, { organization_id: org.id, email: org.email, password: 123 }).expect(400);
    await login('10.0.6.50', { organization_id: org.id, email: org.email, password: org.password }).expect(200);
    const root = { email: 'root-of-400s@platform.test', password: 'a platform admin password' };
    await stack.api.stores.platformAdmins.create(root.email, root.password, 4);
    const admin = (ip: string, body: Record<string, unknown>) => stack.request.post('/auth/login').set('X-Forwarded-For', ip).send(body);
    for (let i = 0; i < 10; i++) await admin(`10.0.6.${100 + i}`, { email: root.email, password: 123 }).expect(400);
    await admin('10.0.6.200', root).expect(200);
  });

  it('when counters are stored, then they live in Redis under the deployment prefix (so suites and deployments never share them)', async () => {
    const redis = new IORedis(stack.config.queue.redisUrl);
    try {
      const keys = await redis.keys(`${stack.config.queue.prefix}:rl:login-*`);
      expect(keys.some((k) => k.includes(':rl:login-ip:'))).to.equal(true);
      expect(keys.some((k) => k.includes(':rl:login-account:'))).to.equal(true);
      expect(keys.join(' ')).to.not.include('@');
    } finally {
      await redis.quit();
    }
  });
});

describe('Login throttling behind no proxy (TRUST_PROXY unset)', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '100', LOGIN_RATE_LIMIT_PER_IP: '5', LOGIN_RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  after(() => stack.stop());

  it("when a client sends its own X-Forwarded-For, then it is ignored: the limit applies to the connection's address", async () => {
    const post = (i: number) =>
      stack.request
        .post('/auth/login')
        .set('X-Forwarded-For', `10.9.0.${i}`)
        .send({ email: `nobody${i}@platform.test`, password: 'wrong password' });
    for (let i = 0; i < 5; i++) await post(i).expect(401);
    await post(99).expect(429);
  });
});
