import { expect } from 'chai';
import jwt from 'jsonwebtoken';
import { auth, createActiveOrganization } from './support/org-users';
import type { CreatedOrg } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Organization user login', () => {
  let stack: TestStack;
  let org: CreatedOrg;
  before(async () => {
    // A realistic bcrypt cost, so that the timing comparison measures what an attacker would.
    stack = await startStack({ worker: true, env: { BCRYPT_ROUNDS: '10' } });
    org = await createActiveOrganization(stack);
  });
  after(() => stack.stop());

  it('when the credentials are right, then it answers a bearer token with sub, org, role, iss, aud, exp and the user without its hash', async () => {
    const res = await stack.request
      .post('/admin/login')
      .send({ organization_name: org.name.toUpperCase(), email: org.email, password: org.password })
      .expect(200);
    expect(res.body).to.include({ token_type: 'bearer', expires_in: 900, refresh_expires_in: 30 * 24 * 3600 });
    expect(res.headers['x-content-type-options'], 'helmet is on').to.equal('nosniff');
    expect(res.body.user).to.include({ email: org.email, role: 'admin', is_active: true, organization_id: org.id });
    expect(JSON.stringify(res.body.user)).to.not.match(/hash|password/);
    const claims = jwt.verify(res.body.access_token, stack.config.auth.jwt.secret, {
      audience: stack.config.auth.jwt.audience,
      issuer: stack.config.auth.jwt.issuer,
    }) as jwt.JwtPayload;
    expect(claims).to.include({ sub: res.body.user.id, org: org.id, role: 'org_admin', iss: 'orgms', aud: 'orgms-api' });
    expect(claims.exp).to.be.a('number');

    const me = await stack.request.get('/me').set(auth(res.body.access_token)).expect(200);
    expect(me.body).to.include({ id: res.body.user.id, email: org.email, role: 'admin' });
    expect(me.body.organization).to.include({ id: org.id, name: org.name, status: 'active' });
    // The login is stamped, so admins can spot dormant accounts.
    expect(Date.parse(res.body.user.last_login_at)).to.be.closeTo(Date.now(), 60_000);
    expect(me.body.last_login_at).to.equal(res.body.user.last_login_at);
  });

  it('when the organization comes by id, or by name in the query string (the seed style), then it logs in too', async () => {
    await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(200);
    await stack.request.post('/admin/login').query({ organization_name: org.name }).send({ email: org.email, password: org.password }).expect(200);
  });

  it('when the password is wrong, the user unknown or the organization unknown, then each answers the same 401 in about the same time', async () => {
    const attempts = {
      wrongPassword: { organization_id: org.id, email: org.email, password: 'wrong password' },
      unknownUser: { organization_id: org.id, email: 'nobody@example.test', password: 'wrong password' },
      unknownOrgById: { organization_id: '00000000-0000-4000-8000-000000000000', email: org.email, password: 'wrong password' },
      unknownOrgByName: { organization_name: 'No Such Org', email: org.email, password: 'wrong password' },
    };
    const bodies = new Set<string>();
    const medians: Record<string, number> = {};
    for (const [name, body] of Object.entries(attempts)) {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = process.hrtime.bigint();
        const res = await stack.request.post('/admin/login').send(body).expect(401);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
        const { requestId: _ignored, ...rest } = res.body;
        bodies.add(JSON.stringify(rest));
      }
      medians[name] = times.sort((a, b) => a - b)[2];
    }
    expect(bodies.size, [...bodies].join('\n')).to.equal(1);
    const values = Object.values(medians);
    console.log(`      login medians (ms, bcrypt cost 10): ${JSON.stringify(medians)}`);
    // Every path pays one bcrypt compare at cost 10 (tens of ms); a skipped compare would be a few ms.
    expect(Math.min(...values), JSON.stringify(medians)).to.be.greaterThan(Math.max(...values) * 0.5);
  });

  it('when the body is malformed or names the organization twice, then it answers 400', async () => {
    await stack.request.post('/admin/login').send({ email: org.email }).expect(400);
    await stack.request.post('/admin/login').send({ organization_id: 'nope', email: org.email, password: 'x' }).expect(400);
    await stack.request
      .post('/admin/login')
      .send({ organization_id: org.id, organization_name: org.name, email: org.email, password: org.password })
      .expect(400);
  });

  it('when a platform admin asks who it is, then /me answers from the control database', async () => {
    const res = await stack.request
      .get('/me')
      .set(auth(await stack.adminToken()))
      .expect(200);
    expect(res.body).to.include({ email: 'root@platform.test', role: 'platform_admin' });
    await stack.request.get('/me').expect(401);
  });
});
