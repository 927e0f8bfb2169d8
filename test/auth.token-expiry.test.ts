import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';

/** Verified tokens are remembered per process (auth/authenticate.ts), never past their expiry. */
describe('Token expiry with remembered verifications', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { JWT_EXPIRES_IN: '2s' } });
  });
  after(() => stack?.stop());

  it('when a token was accepted (and remembered) and then expires, then the next request with it answers 401', async function () {
    this.timeout(10000);
    const login = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(200);
    const token = login.body.access_token as string;
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(200);
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(401);
  });
});
