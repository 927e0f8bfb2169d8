import { SWEEPS } from '@orgms/common/queues/registry';
import { expect } from 'chai';
import { register } from 'prom-client';
import { queryControlDatabase } from './support/control-database';
import { auth, createActiveOrganization, orgLogin, usersSnapshot } from './support/org-users';
import { type CreatedOrg, uniqueName } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Organization limits and quotas (GET/PATCH /organizations/{id}/limits, the quota sweep)', function () {
  this.timeout(60000);
  let stack: TestStack;
  let admin: string;
  let org: CreatedOrg;
  let orgAdmin: string;

  before(async () => {
    stack = await startStack({ worker: true, env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
    admin = await stack.adminToken();
    org = await createActiveOrganization(stack);
    orgAdmin = await orgLogin(stack, org.id, org.email, org.password);
  });
  after(() => stack?.stop());

  const limitsOf = (orgId: string, token: string) => stack.request.get(`/organizations/${orgId}/limits`).set(auth(token));
  const changeLimits = (orgId: string, token: string, body: object) => stack.request.patch(`/organizations/${orgId}/limits`).set(auth(token)).send(body);
  const createUser = (orgId: string, token: string, email: string) =>
    stack.request.post(`/organizations/${orgId}/users`).set(auth(token)).send({ email, password: 'correct horse battery', role: 'member' });

  async function member(of: CreatedOrg): Promise<string> {
    const email = `member-${Math.random().toString(36).slice(2, 8)}@example.test`;
    await createUser(of.id, admin, email).expect(201);
    return orgLogin(stack, of.id, email, 'correct horse battery');
  }

  async function gauge(): Promise<number> {
    const metric = await register.getSingleMetric('orgms_organizations_over_quota')?.get();
    return metric?.values[0]?.value ?? Number.NaN;
  }

  describe('GET', () => {
    it("when the organization's admin reads its limits, then 200 with the defaults, the requests of the current window, the users it has and no sample yet", async () => {
      const res = await limitsOf(org.id, orgAdmin).expect(200);
      const { limits } = stack.config;
      expect(res.body.organization_id).to.equal(org.id);
      expect(res.body.window_seconds).to.equal(limits.windowMs / 1000);
      // This read itself is counted before it is answered; the organization wrote nothing in this window.
      expect(res.body.requests.reads.used).to.be.at.least(1);
      expect(res.body.requests.writes).to.deep.equal({ limit: limits.organization.writes, used: 0 });
      expect(res.body.database.connection_limit).to.equal(limits.database.connectionLimit);
      expect(res.body.quotas.users).to.deep.equal({ limit: limits.quotas.users, usage: 1 });
      expect(res.body.quotas.database_bytes.limit).to.equal(limits.quotas.databaseBytes);
      expect(res.body).to.include({ over_quota: false, over_quota_since: null });
      expect(res.body.overrides).to.deep.equal({});
    });

    it('when a platform admin reads them, then 200', async () => {
      await limitsOf(org.id, admin).expect(200);
    });

    it('when a member reads them, then 403', async () => {
      const res = await limitsOf(org.id, await member(org)).expect(403);
      expect(res.body.type).to.equal('https://orgms.dev/problems/forbidden');
    });

    it("when another organization's admin reads them, then the usual 404", async () => {
      const other = await createActiveOrganization(stack);
      const otherAdmin = await orgLogin(stack, other.id, other.email, other.password);
      await limitsOf(org.id, otherAdmin).expect(404);
    });
  });

  describe('PATCH', () => {
    it('when a platform admin changes limits, then they apply, a null goes back to the default, and the change is audited', async () => {
      const res = await changeLimits(org.id, admin, { requests: { writes: 50 }, quotas: { database_bytes: 5_000_000_000 } }).expect(200);
      expect(res.body.requests.writes.limit).to.equal(50);
      expect(res.body.quotas.database_bytes.limit).to.equal(5_000_000_000);
      expect(res.body.overrides).to.deep.equal({ requests: { writes: 50 }, quotas: { database_bytes: 5_000_000_000 } });

      const back = await changeLimits(org.id, admin, { requests: { writes: null } }).expect(200);
      expect(back.body.requests.writes.limit).to.equal(stack.config.limits.organization.writes);
      expect(back.body.overrides).to.deep.equal({ quotas: { database_bytes: 5_000_000_000 } });

      const entries = await queryControlDatabase<{ details: Record<string, unknown> }>(
        stack,
        `SELECT details FROM audit_log WHERE org_id = $1 AND action = 'organization.limits_changed' ORDER BY at`,
        [org.id],
      );
      expect(entries.map((e) => e.details)).to.deep.equal([
        { requests: { writes: 50 }, quotas: { database_bytes: 5_000_000_000 } },
        { requests: { writes: null } },
      ]);
      await changeLimits(org.id, admin, { quotas: { database_bytes: null } }).expect(200);
    });

    it("when the organization's admin changes its limits, then 403 and nothing changes", async () => {
      await changeLimits(org.id, orgAdmin, { quotas: { users: 100000000 } }).expect(403);
      expect((await limitsOf(org.id, admin).expect(200)).body.overrides).to.deep.equal({});
    });

    for (const body of [
      {},
      { quotas: { users: 0 } },
      { requests: { reads: 1.5 } },
      { database: { connection_limit: 10001 } },
      { quotas: { rows: 3 } },
      { quotas: {} },
    ]) {
      it(`when the body is ${JSON.stringify(body)}, then 400 and nothing changes`, async () => {
        const res = await changeLimits(org.id, admin, body).expect(400);
        expect(res.body.type).to.equal('https://orgms.dev/problems/validation-error');
        expect((await limitsOf(org.id, admin).expect(200)).body.overrides).to.deep.equal({});
      });
    }
  });

  describe('the users quota', () => {
    it('when an organization has as many users as its quota, then one more answers 403 quota-exceeded and reads still work', async () => {
      const small = await createActiveOrganization(stack);
      await changeLimits(small.id, admin, { quotas: { users: 2 } }).expect(200);
      await createUser(small.id, admin, 'second@example.test').expect(201);
      const before = await usersSnapshot(stack, small.id);

      const res = await createUser(small.id, admin, 'third@example.test').expect(403);
      expect(res.body).to.include({ type: 'https://orgms.dev/problems/quota-exceeded', quota: 'users', limit: 2, usage: 2 });
      expect(await usersSnapshot(stack, small.id)).to.deep.equal(before);
      await stack.request.get(`/organizations/${small.id}/users`).set(auth(admin)).expect(200);
      const limits = await limitsOf(small.id, admin).expect(200);
      expect(limits.body.quotas.users).to.deep.equal({ limit: 2, usage: 2 });
    });
  });

  describe('the database quota (quota sweep)', () => {
    it('when the sweep finds a database over its quota, then it is marked, announced once (webhook, audit), counted, and refuses growth until its quota is raised', async () => {
      const big = await createActiveOrganization(stack, { organization_name: uniqueName('Big') });
      const hook = await stack.request
        .post('/webhooks')
        .set(auth(admin))
        .send({ url: 'http://127.0.0.1:9/hooks', events: ['organization.quota_exceeded'] })
        .expect(201);
      await changeLimits(big.id, admin, { quotas: { database_bytes: 1000 } }).expect(200);
      const sweep = (stack.worker ?? expect.fail('this suite runs a worker')).sweeps[SWEEPS.quotas];

      const first = await sweep.run();
      expect(first.overQuota).to.include(big.id);
      const over = await limitsOf(big.id, admin).expect(200);
      expect(over.body.over_quota).to.equal(true);
      expect(over.body.over_quota_since).to.be.a('string');
      expect(over.body.quotas.database_bytes.usage).to.be.above(1000);
      expect(await gauge()).to.equal(1);

      const refused = await createUser(big.id, admin, 'grow@example.test').expect(403);
      expect(refused.body).to.include({ type: 'https://orgms.dev/problems/quota-exceeded', quota: 'database_bytes', limit: 1000 });
      await stack.request.get(`/organizations/${big.id}/users`).set(auth(admin)).expect(200);

      // A second pass over the same state announces nothing again.
      expect((await sweep.run()).overQuota).to.not.include(big.id);
      const deliveries = await queryControlDatabase(stack, `SELECT event_type FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2`, [
        big.id,
        hook.body.id,
      ]);
      expect(deliveries).to.deep.equal([{ event_type: 'organization.quota_exceeded' }]);
      const audited = await queryControlDatabase<{ details: Record<string, unknown> }>(
        stack,
        `SELECT details FROM audit_log WHERE org_id = $1 AND action = 'organization.quota_exceeded'`,
        [big.id],
      );
      expect(audited).to.have.length(1);
      expect(audited[0].details).to.include({ quota: 'database_bytes', limit: 1000 });

      await changeLimits(big.id, admin, { quotas: { database_bytes: null } }).expect(200);
      expect((await sweep.run()).backUnder).to.include(big.id);
      expect((await limitsOf(big.id, admin).expect(200)).body).to.include({ over_quota: false, over_quota_since: null });
      expect(await gauge()).to.equal(0);
      await createUser(big.id, admin, 'grow@example.test').expect(201);
    });
  });
});
