import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { auth, createActiveOrganization, orgLogin, usersSnapshot } from './support/org-users';
import { type CreatedOrg, deleteOrganization } from './support/organizations';
import { startStack, type TestStack } from './support/stack';
import { signedToken, unsignedToken } from './support/tokens';

interface RouteCase {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  body?: Record<string, unknown>;
}

describe('Authorization across organizations', () => {
  let stack: TestStack;
  let orgA: CreatedOrg;
  let orgB: CreatedOrg;
  let bUserId: string;
  let tokens: { aAdmin: string; aMember: string };
  let routes: RouteCase[];

  before(async () => {
    stack = await startStack({ worker: true });
    [orgA, orgB] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    const aAdmin = await orgLogin(stack, orgA.id, orgA.email, orgA.password);
    await stack.request.post(`/organizations/${orgA.id}/users`).set(auth(aAdmin)).send({ email: 'member@a.test', password: 'member password' }).expect(201);
    const bAdmin = await orgLogin(stack, orgB.id, orgB.email, orgB.password);
    const bUser = await stack.request
      .post(`/organizations/${orgB.id}/users`)
      .set(auth(bAdmin))
      .send({ email: 'member@b.test', password: 'member password' })
      .expect(201);
    bUserId = bUser.body.id;
    tokens = { aAdmin, aMember: await orgLogin(stack, orgA.id, 'member@a.test', 'member password') };
    const newUser = { email: 'intruder@b.test', password: 'intruder password', role: 'admin' };
    routes = [
      { method: 'get', path: `/organizations/${orgB.id}` },
      { method: 'get', path: `/organizations/${orgB.id}/status` },
      { method: 'get', path: `/organizations/${orgB.id}/users` },
      { method: 'post', path: `/organizations/${orgB.id}/users`, body: newUser },
      { method: 'get', path: `/organizations/${orgB.id}/users/${bUserId}` },
      { method: 'patch', path: `/organizations/${orgB.id}/users/${bUserId}`, body: { role: 'admin', password: 'taken over!' } },
      { method: 'delete', path: `/organizations/${orgB.id}/users/${bUserId}` },
      { method: 'get', path: `/org/get?organization_name=${encodeURIComponent(orgB.name)}` },
      { method: 'post', path: '/org/get', body: { organization_name: orgB.name } },
      { method: 'get', path: `/organization?organization_name=${encodeURIComponent(orgB.name)}` },
      { method: 'post', path: '/user/create', body: { ...newUser, organization_name: orgB.name } },
      { method: 'get', path: `/user/list?organization_name=${encodeURIComponent(orgB.name)}` },
    ];
  });
  after(() => stack.stop());

  const call = (route: RouteCase, token: string) => {
    const req = stack.request[route.method](route.path).set(auth(token));
    return route.body ? req.send(route.body) : req;
  };

  /** Connections the API holds on B's database: none unless the request reached it. */
  async function connectionsToB(): Promise<number> {
    const client = new Client({ connectionString: stack.config.tenancy.serverUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [
        databaseNameFor(orgB.id, stack.config.tenancy.databasePrefix),
      ]);
      return rows[0].n;
    } finally {
      await client.end();
    }
  }

  for (const who of ['aAdmin', 'aMember'] as const) {
    it(`when org A's ${who === 'aAdmin' ? 'admin' : 'member'} token is used on every one of org B's routes, then each answers 403/404, B's database is unchanged and never opened`, async () => {
      await stack.api.tenantPools.evict(orgB.id);
      // A closed backend leaves pg_stat_activity a moment later.
      for (let i = 0; i < 40 && (await connectionsToB()) > 0; i++) await new Promise((r) => setTimeout(r, 25));
      const beforeUsers = await usersSnapshot(stack, orgB.id);
      const [beforeOrg] = await queryControlDatabase(stack, 'SELECT * FROM organizations WHERE id = $1', [orgB.id]);
      for (const route of routes) {
        const res = await call(route, tokens[who]);
        expect([403, 404], `${route.method.toUpperCase()} ${route.path} → ${res.status}`).to.include(res.status);
        expect(res.type).to.equal('application/problem+json');
        expect(JSON.stringify(res.body)).to.not.include('member@b.test');
      }
      expect(await usersSnapshot(stack, orgB.id)).to.deep.equal(beforeUsers);
      expect((await queryControlDatabase(stack, 'SELECT * FROM organizations WHERE id = $1', [orgB.id]))[0]).to.deep.equal(beforeOrg);
      expect(await connectionsToB(), 'no tenant pool was opened on B').to.equal(0);
    });
  }

  it("when a platform admin uses org B's routes, then they are allowed", async () => {
    const token = await stack.adminToken();
    await stack.request.get(`/organizations/${orgB.id}`).set(auth(token)).expect(200);
    await stack.request.get(`/organizations/${orgB.id}/users/${bUserId}`).set(auth(token)).expect(200);
    await stack.request
      .get(`/user/list?organization_name=${encodeURIComponent(orgB.name)}`)
      .set(auth(token))
      .expect(200);
  });

  it("when an org admin reads its own organization's metadata and status, then it may", async () => {
    const res = await stack.request.get(`/organizations/${orgA.id}`).set(auth(tokens.aAdmin)).expect(200);
    expect(res.body).to.include({ id: orgA.id, status: 'active' });
    await stack.request.get(`/organizations/${orgA.id}/status`).set(auth(tokens.aAdmin)).expect(200);
    await stack.request.get(`/organizations/${orgA.id}`).set(auth(tokens.aMember)).expect(403);
    await stack.request.get('/organizations').set(auth(tokens.aAdmin)).expect(403);
  });

  it('when a token is forged, expired, for another audience or issuer, unsigned or malformed, then every route answers 401', async () => {
    const claims = { role: 'org_admin', org: orgB.id, ver: 0 };
    const sign = (options: Parameters<typeof signedToken>[2]) => signedToken(stack.config.auth.jwt, claims, { subject: bUserId, expiresIn: 60, ...options });
    const bad = {
      forged: sign({ secret: 'another-secret-0123456789abcdef0123456789' }),
      expired: signedToken(stack.config.auth.jwt, { ...claims, exp: Math.floor(Date.now() / 1000) - 60 }, { subject: bUserId }),
      wrongAudience: sign({ audience: 'someone-else' }),
      wrongIssuer: sign({ issuer: 'evil' }),
      unsigned: unsignedToken(stack.config.auth.jwt, { ...claims, sub: bUserId }),
      orgUserWithoutOrg: signedToken(stack.config.auth.jwt, { role: 'org_admin' }, { subject: bUserId, expiresIn: 60 }),
      garbage: 'not-a-jwt',
    };
    const beforeUsers = await usersSnapshot(stack, orgB.id);
    for (const [name, token] of Object.entries(bad)) {
      for (const route of [...routes, { method: 'get' as const, path: '/me' }]) {
        const res = await call(route, token);
        expect(res.status, `${name}: ${route.method.toUpperCase()} ${route.path}`).to.equal(401);
      }
    }
    expect(await usersSnapshot(stack, orgB.id)).to.deep.equal(beforeUsers);
  });

  it('when an org user names another organization by name on the compatibility routes, then it gets the same 404 as for a name that does not exist', async () => {
    for (const token of [tokens.aAdmin, tokens.aMember]) {
      const answers = [];
      for (const name of [orgB.name, 'No Such Organization Anywhere']) {
        const res = await stack.request
          .get(`/org/get?organization_name=${encodeURIComponent(name)}`)
          .set(auth(token))
          .expect(404);
        expect(JSON.stringify(res.body)).to.not.include(orgB.id).and.not.include(name);
        answers.push({ ...res.body, requestId: undefined });
      }
      expect(answers[0]).to.deep.equal(answers[1]);
    }
  });

  it("when a deactivated user's token is used after its organization was deleted, then it reads nothing", async () => {
    const orgC = await createActiveOrganization(stack);
    const owner = await orgLogin(stack, orgC.id, orgC.email, orgC.password);
    const second = await stack.request
      .post(`/organizations/${orgC.id}/users`)
      .set(auth(owner))
      .send({ email: 'second-admin@c.test', password: 'second password', role: 'admin' })
      .expect(201);
    const secondToken = await orgLogin(stack, orgC.id, 'second-admin@c.test', 'second password');
    await stack.request.patch(`/organizations/${orgC.id}/users/${second.body.id}`).set(auth(owner)).send({ is_active: false }).expect(200);
    await stack.request.get(`/organizations/${orgC.id}`).set(auth(secondToken)).expect(401);
    await deleteOrganization(stack, orgC.id);
    for (const path of [`/organizations/${orgC.id}`, `/organizations/${orgC.id}/status`, '/me']) {
      const res = await stack.request.get(path).set(auth(secondToken));
      expect(res.status, path).to.be.oneOf([401, 409]);
      expect(JSON.stringify(res.body), path).to.not.include(orgC.name);
    }
  });

  it('when a token of a user that no longer exists is used, then it answers 401', async () => {
    const token = signedToken(
      stack.config.auth.jwt,
      { role: 'org_admin', org: orgB.id, ver: 0 },
      { subject: '00000000-0000-4000-8000-000000000000', expiresIn: 60 },
    );
    await stack.request.get(`/organizations/${orgB.id}/users`).set(auth(token)).expect(401);
  });
});
