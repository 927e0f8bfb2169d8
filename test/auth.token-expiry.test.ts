import { durationToSeconds } from '@orgms/api/sign-in/tokens';
import { ManualClock } from './support/manual-clock';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';

/** Verified tokens are remembered per process (sign-in/authenticate.ts), never past their expiry. */
describe('Token expiry with remembered verifications', () => {
  const clock = new ManualClock();
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { JWT_EXPIRES_IN: '15m' }, clock });
  });
  after(() => stack?.stop());

  it('when a token was accepted (and remembered) and then expires, then the next request with it answers 401', async () => {
    const login = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(200);
    const token = login.body.access_token as string;
    const lifetimeMs = durationToSeconds(stack.config.auth.jwt.expiresIn) * 1000;
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(200);
    clock.advance(lifetimeMs - 1000);
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(200);
    clock.advance(1000);
    await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(401);
  });

  it('when a token has expired before it was ever used, then it answers 401', async () => {
    const login = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).expect(200);
    clock.advance(durationToSeconds(stack.config.auth.jwt.expiresIn) * 1000);
    await stack.request.get('/organizations').set('Authorization', `Bearer ${login.body.access_token}`).expect(401);
  });
});
