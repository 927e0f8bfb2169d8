import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { queryControlDatabase } from './support/control-database';
import { auth } from './support/org-users';
import { startStack, type TestStack } from './support/stack';
import { signedToken } from './support/tokens';

describe('Platform admin tokens can be revoked', () => {
  let stack: TestStack;
  let counter = 0;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  /** A fresh platform admin and a token of it. */
  async function adminWithToken(): Promise<{ email: string; password: string; token: string }> {
    counter += 1;
    const admin = { email: `revocable-${counter}@platform.test`, password: 'a long admin password' };
    await stack.api.stores.platformAdmins.create(admin.email, admin.password, 4);
    const res = await stack.request.post('/auth/login').send(admin).expect(200);
    await stack.request.get('/organizations').set(auth(res.body.access_token)).expect(200);
    return { ...admin, token: res.body.access_token };
  }

  const expectRevoked = async (token: string) => {
    await stack.request.get('/organizations').set(auth(token)).expect(401);
    await stack.request.get('/me').set(auth(token)).expect(401);
    await stack.request
      .post('/auth/register')
      .set(auth(token))
      .send({ email: `never-${counter}@platform.test`, password: 'another long password' })
      .expect(401);
    await stack.request.get('/admin/queues').set(auth(token)).expect(401);
  };

  it('when the admin is removed, then its token no longer lists organizations nor registers admins', async () => {
    const admin = await adminWithToken();
    await stack.api.stores.platformAdmins.remove(admin.email);
    await expectRevoked(admin.token);
    const [{ n }] = await queryControlDatabase(stack, "SELECT count(*)::int AS n FROM platform_admins WHERE email LIKE 'never-%'");
    expect(n).to.equal(0);
  });

  it('when the admin is deactivated, then its token is refused and it cannot log in until activated again', async () => {
    const admin = await adminWithToken();
    await stack.api.stores.platformAdmins.deactivate(admin.email);
    await expectRevoked(admin.token);
    await stack.request.post('/auth/login').send({ email: admin.email, password: admin.password }).expect(401);
    await stack.api.stores.platformAdmins.activate(admin.email);
    await expectRevoked(admin.token); // activation does not bring old tokens back
    await stack.request.post('/auth/login').send({ email: admin.email, password: admin.password }).expect(200);
  });

  it('when the password changes, then tokens issued before are refused and the new password works', async () => {
    const admin = await adminWithToken();
    await stack.api.stores.platformAdmins.changePassword(admin.email, 'the new admin password', 4);
    await expectRevoked(admin.token);
    const res = await stack.request.post('/auth/login').send({ email: admin.email, password: 'the new admin password' }).expect(200);
    await stack.request.get('/organizations').set(auth(res.body.access_token)).expect(200);
  });

  it('when a token has no expiry (or no version), then it is refused even with a valid signature', async () => {
    const admin = await adminWithToken();
    const { sub, ver } = jwt.decode(admin.token) as jwt.JwtPayload;
    const sign = (claims: object, options: jwt.SignOptions = {}) => signedToken(stack.config.auth.jwt, claims, { subject: sub, ...options });
    await stack.request
      .get('/organizations')
      .set(auth(sign({ role: 'platform_admin', ver })))
      .expect(401);
    await stack.request
      .get('/organizations')
      .set(auth(sign({ role: 'platform_admin' }, { expiresIn: 60 })))
      .expect(401);
    await stack.request
      .get('/organizations')
      .set(auth(sign({ role: 'platform_admin', ver }, { expiresIn: 60 })))
      .expect(200);
  });

  it("when an operator runs npm run admin:deactivate, then the admin's token stops working at once", async function () {
    this.timeout(60000);
    const admin = await adminWithToken();
    const cli = spawnSync('npm', ['run', '--silent', 'admin:deactivate', '--', '--email', admin.email], {
      cwd: path.resolve(__dirname, '..'),
      // The suite's Redis channel: the CLI tells the API replicas, whose cached token state goes at once.
      env: { ...process.env, DATABASE_URL: stack.config.database.url, REDIS_URL: stack.config.queue.redisUrl, QUEUE_PREFIX: stack.config.queue.prefix },
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).to.equal(0);
    expect(cli.stdout).to.include('deactivated');
    await expectRevoked(admin.token);
  });
});
