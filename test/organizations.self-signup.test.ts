import { expect } from 'chai';
import { uniqueName } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Self-signup is limited per client address', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { ALLOW_SELF_SIGNUP: 'true', SIGNUP_RATE_LIMIT_PER_IP: '2', SIGNUP_RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  after(() => stack.stop());

  const body = () => ({ organization_name: uniqueName('Signup'), email: 'owner@example.test', password: 'correct horse battery' });

  it('when one address creates organizations without a token past the limit, then it answers 429 with Retry-After and creates nothing more; a platform admin is not limited', async () => {
    await stack.request.post('/organizations').send(body()).expect(202);
    await stack.request.post('/org/create').send(body()).expect(202);
    const refused = body();
    const res = await stack.request.post('/organization/create').send(refused).expect(429);
    expect(res.type).to.equal('application/problem+json');
    expect(Number(res.headers['retry-after'])).to.be.within(1, 60);
    const listed = await stack.request
      .get('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(listed.body.items.map((o: { name: string }) => o.name)).to.not.include(refused.organization_name);
    expect(listed.body.items).to.have.lengthOf(2);
    await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .send(body())
      .expect(202);
  });
});
