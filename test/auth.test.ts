import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { queryControlDatabase } from './support/control-database';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';
import { signedToken, unsignedToken } from './support/tokens';

describe('Platform admin authentication', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('when the bootstrap admin logs in (email in any case), then it gets a 15-minute bearer JWT with the documented claims and a refresh token', async () => {
    const res = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD }).expect(200);
    expect(res.body).to.include({ token_type: 'bearer', expires_in: 900, refresh_expires_in: 30 * 24 * 3600 });
    expect(res.body.user).to.include({ email: ADMIN_EMAIL, role: 'platform_admin' });
    const claims = jwt.verify(res.body.access_token, stack.config.auth.jwt.secret, {
      audience: stack.config.auth.jwt.audience,
      issuer: stack.config.auth.jwt.issuer,
    }) as jwt.JwtPayload;
    expect(claims).to.include({ role: 'platform_admin', sub: res.body.user.id });
    expect(claims).to.not.have.property('org');
  });

  it('when the password is wrong or the email unknown, then both answer the same 401', async () => {
    const wrong = await stack.request.post('/auth/login').send({ email: ADMIN_EMAIL, password: 'not the password' }).expect(401);
    const unknown = await stack.request.post('/auth/login').send({ email: 'nobody@platform.test', password: 'not the password' }).expect(401);
    expect(wrong.type).to.equal('application/problem+json');
    expect(wrong.body.detail).to.equal(unknown.body.detail);
  });

  it('when the bootstrap runs again, then no second admin is created', async () => {
    expect(await stack.api.stores.platformAdmins.ensure(ADMIN_EMAIL, 'whatever-else', 4)).to.equal('exists');
    const [{ n }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS n FROM platform_admins');
    expect(n).to.equal(1);
  });

  it('when a platform admin registers another, then the new one can log in and a duplicate email is a 409', async () => {
    const token = await stack.adminToken();
    const created = await stack.request
      .post('/auth/register')
      .set('Authorization', `Bearer ${token}`)
      .send({ email: 'second@platform.test', password: 'second-admin-pass' })
      .expect(201);
    expect(created.body).to.include({ email: 'second@platform.test', role: 'platform_admin' });
    expect(created.body).to.not.have.property('password_hash');
    await stack.request.post('/auth/login').send({ email: 'second@platform.test', password: 'second-admin-pass' }).expect(200);
    await stack.request
      .post('/auth/register')
      .set('Authorization', `Bearer ${token}`)
      .send({ email: 'SECOND@platform.test', password: 'another-pass-1' })
      .expect(409);
  });

  it('when registering without a token or with a short password, then 401 and 400', async () => {
    await stack.request.post('/auth/register').send({ email: 'x@platform.test', password: 'long enough pass' }).expect(401);
    await stack.request
      .post('/auth/register')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .send({ email: 'x@platform.test', password: 'short' })
      .expect(400);
  });

  it('when a token is forged, expired, or for another audience, then 401', async () => {
    const sub = '00000000-0000-4000-8000-000000000000';
    const forged = signedToken(stack.config.auth.jwt, { role: 'platform_admin' }, { subject: sub, secret: 'x'.repeat(40) });
    const expired = signedToken(stack.config.auth.jwt, { role: 'platform_admin', exp: Math.floor(Date.now() / 1000) - 10 }, { subject: sub });
    const otherAudience = signedToken(stack.config.auth.jwt, { role: 'platform_admin' }, { subject: sub, audience: 'someone-else' });
    const noneAlg = unsignedToken(stack.config.auth.jwt, { role: 'platform_admin', sub });
    for (const token of [forged, expired, otherAudience, noneAlg]) {
      const res = await stack.request.get('/organizations').set('Authorization', `Bearer ${token}`).expect(401);
      expect(res.type).to.equal('application/problem+json');
    }
  });
});
