import { expect } from 'chai';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from '../support/stack';

const basic = (email: string, password: string) => `Basic ${Buffer.from(`${email}:${password}`).toString('base64')}`;

/** Median wall time of `times` calls of `run`, in ms. */
async function medianMs(times: number, run: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = process.hrtime.bigint();
    await run();
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples.sort((a, b) => a - b)[Math.floor(times / 2)];
}

describe('Bull Board sign-in (HTTP Basic) is a throttled credential check', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({
      env: {
        BCRYPT_ROUNDS: '10',
        LOGIN_RATE_LIMIT_PER_ACCOUNT: '5',
        LOGIN_RATE_LIMIT_PER_IP: '40',
        LOGIN_RATE_LIMIT_WINDOW_MS: '60000',
        TRUST_PROXY: 'loopback',
      },
    });
  });
  after(() => stack.stop());

  const board = (ip: string, authorization: string) => stack.request.get('/admin/queues').set('X-Forwarded-For', ip).set('Authorization', authorization);

  it('when wrong passwords are tried for an admin, then after the account limit even the right one answers 429, from any address', async () => {
    const victim = { email: 'board-victim@platform.test', password: 'the right admin password' };
    await stack.api.stores.platformAdmins.create(victim.email, victim.password, 4);
    for (let i = 0; i < 5; i++) await board(`10.1.0.${i}`, basic(victim.email, `wrong ${i}`)).expect(401);
    const locked = await board('10.1.0.99', basic(victim.email, victim.password)).expect(429);
    expect(locked.type).to.equal('application/problem+json');
    expect(Number(locked.headers['retry-after'])).to.be.within(1, 60);
    // The same account through /auth/login is the same counter.
    await stack.request.post('/auth/login').set('X-Forwarded-For', '10.1.0.98').send(victim).expect(429);
  });

  it('when one address tries many accounts, then it is throttled per address too', async () => {
    let last = 0;
    for (let i = 0; i < 41; i++) last = (await board('10.2.0.1', basic(`spray-${i}@platform.test`, 'guess'))).status;
    expect(last).to.equal(429);
  });

  it('when the email is unknown or the password wrong, then both cost a bcrypt compare: no timing tells admins apart', async () => {
    await stack.api.stores.platformAdmins.create('board-timed@platform.test', 'a timed admin password', 10);
    const known = await medianMs(5, () => board('10.3.0.1', basic('board-timed@platform.test', 'not the password')).expect(401));
    const unknown = await medianMs(5, () => board('10.3.0.2', basic('nobody-here@platform.test', 'not the password')).expect(401));
    console.log(`      Basic auth medians (ms, bcrypt cost 10): known ${known.toFixed(1)}, unknown ${unknown.toFixed(1)}`);
    expect(unknown).to.be.within(known * 0.6, known * 1.6);
    expect(unknown).to.be.above(15); // a bcrypt compare at cost 10 is tens of ms; a bare lookup is ~1 ms
  });

  it('when an admin that signed in by Basic is deactivated, then its remembered credentials stop working at once', async () => {
    const admin = { email: 'board-revoked@platform.test', password: 'another admin password' };
    await stack.api.stores.platformAdmins.create(admin.email, admin.password, 4);
    await board('10.4.0.1', basic(admin.email, admin.password)).expect(200);
    await board('10.4.0.1', basic(admin.email, admin.password)).expect(200); // remembered
    await stack.api.stores.platformAdmins.deactivate(admin.email);
    await board('10.4.0.1', basic(admin.email, admin.password)).expect(401);
    await board('10.4.0.2', basic(ADMIN_EMAIL, ADMIN_PASSWORD)).expect(200); // other admins are unaffected
  });
});
