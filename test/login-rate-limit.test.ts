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
      env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '8', LOGIN_RATE_LIMIT_WINDOW_MS: '60000' },
    });
    org = await createActiveOrganization(stack);
  });
  after(() => stack.stop());

  // The API trusts X-Forwarded-For from loopback (a local proxy), which lets the test act as many clients.
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

  it('when counters are stored, then they live in Redis under the deployment prefix (so suites and deployments never share them)', async () => {
    const redis = new IORedis(stack.config.redisUrl);
    try {
      const keys = await redis.keys(`${stack.config.queuePrefix}:rl:login-*`);
      expect(keys.some((k) => k.includes(':rl:login-ip:'))).to.equal(true);
      expect(keys.some((k) => k.includes(':rl:login-account:'))).to.equal(true);
      expect(keys.join(' ')).to.not.include('@');
    } finally {
      await redis.quit();
    }
  });
});
