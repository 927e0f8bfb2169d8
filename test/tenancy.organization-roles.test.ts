import { setTimeout as sleep } from 'node:timers/promises';
import { databaseNameOf, withDatabase } from '@orgms/common/database/database-urls';
import { organizationEventsChannel } from '@orgms/common/events/organization-events';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { quoteIdent, roleNameFor, templateNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { databaseExists, databaseOf, withClient } from './support/org-databases';
import { createActiveOrganization, orgLogin, queryOrgDatabase } from './support/org-users';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** Connecting as `user` (trust authentication here: what decides is the CONNECT privilege) to `database`; the SQLSTATE when refused. */
async function connectAs(stack: TestStack, user: string, database: string): Promise<'connected' | string> {
  const url = new URL(withDatabase(stack.config.tenancy.serverUrl, database));
  url.username = user;
  const client = new Client({ connectionString: url.toString() });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'connected';
  } catch (error) {
    return (error as { code?: string }).code ?? (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('Each organization has its own database role', function () {
  this.timeout(60000);
  let stack: TestStack;
  let authorization: string;

  before(async () => {
    stack = await startStack({ worker: true });
    authorization = `Bearer ${await stack.adminToken()}`;
  });
  after(() => stack?.stop());

  const roleOf = (orgId: string) => roleNameFor(orgId, stack.config.tenancy.databasePrefix);
  const organization = async (orgId: string) => (await stack.request.get(`/organizations/${orgId}`).set('Authorization', authorization).expect(200)).body;

  /** Login and a round of users CRUD through the API, as the organization's first admin. */
  async function exerciseUsers(org: { id: string; email: string; password: string }): Promise<void> {
    const token = await orgLogin(stack, org.id, org.email, org.password);
    const users = `/organizations/${org.id}/users`;
    const created = await stack.request
      .post(users)
      .set('Authorization', `Bearer ${token}`)
      .send({ email: `${uniqueName('u').replace(/\W/g, '')}@example.test`, password: 'correct horse battery' })
      .expect(201);
    await stack.request.get(users).set('Authorization', `Bearer ${token}`).expect(200);
    await stack.request.patch(`${users}/${created.body.id}`).set('Authorization', `Bearer ${token}`).send({ role: 'admin' }).expect(200);
    await stack.request.delete(`${users}/${created.body.id}`).set('Authorization', `Bearer ${token}`).expect(204);
  }

  /** Every replica forgets what it cached of the organization (its row, pools and login), as after a restart. */
  async function publishEvict(orgId: string): Promise<void> {
    const redis = createRedis(stack.config.queue, 'worker');
    try {
      await redis.publish(organizationEventsChannel(stack.config.queue), JSON.stringify({ type: 'evict', orgId }));
    } finally {
      await closeRedis(redis);
    }
    await sleep(200);
  }

  it('when an organization is provisioned, then a login role of its own owns its database and every object in it, without superuser, CREATEDB or CREATEROLE', async () => {
    const org = await createActiveOrganization(stack);
    const role = roleOf(org.id);
    expect((await organization(org.id)).database_role).to.equal('own');

    const [attributes] = await withClient(stack, async (c) => (await c.query('SELECT * FROM pg_roles WHERE rolname = $1', [role])).rows);
    expect(attributes).to.include({ rolcanlogin: true, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolreplication: false, rolbypassrls: false });

    const owners = await queryOrgDatabase<{ name: string; owner: string }>(
      stack,
      org.id,
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
       UNION ALL SELECT 'schema public', pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'
       UNION ALL SELECT 'database', pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`,
    );
    expect(owners.map((o) => o.name)).to.include.members(['users', 'tenant_migrations', 'tenant_migrations_id_seq', 'schema public', 'database']);
    for (const object of owners) expect(object, object.name).to.have.property('owner', role);

    // The password is stored sealed (AES-256-GCM under SECRETS_KEY), never in clear.
    const [row] = await queryControlDatabase<{ role_name: string; password_secret: string; granted_at: Date | null }>(
      stack,
      'SELECT role_name, password_secret, granted_at FROM tenant_database_roles WHERE org_id = $1',
      [org.id],
    );
    expect(row.role_name).to.equal(role);
    expect(row.password_secret).to.match(/^v1\.[^.]+\./);
    expect(row.granted_at).to.be.an.instanceOf(Date);
  });

  it("when org A's role connects to org B's database, then PostgreSQL refuses it, as it refuses a role granted nothing", async () => {
    const [a, b] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    expect(await connectAs(stack, roleOf(a.id), databaseOf(stack, a.id))).to.equal('connected');
    expect(await connectAs(stack, roleOf(a.id), databaseOf(stack, b.id))).to.equal('42501'); // insufficient_privilege: CONNECT
    expect(await connectAs(stack, roleOf(b.id), databaseOf(stack, a.id))).to.equal('42501');

    const stranger = `t${stack.id}_stranger`;
    await withClient(stack, (c) => c.query(`CREATE ROLE ${quoteIdent(stranger)} LOGIN`));
    expect(await connectAs(stack, stranger, databaseOf(stack, a.id))).to.equal('42501'); // PUBLIC has no CONNECT
  });

  it("when an organization's role logs in to the control database, postgres, template1 or the template database, then PostgreSQL refuses it; its own database still works", async () => {
    const org = await createActiveOrganization(stack);
    const template = templateNameFor(stack.config.tenancy.databasePrefix);
    // The worker makes the template in the background after it starts.
    for (const deadline = Date.now() + 30000; !(await databaseExists(stack, template)) && Date.now() < deadline; ) await sleep(100);
    const shared = [databaseNameOf(stack.config.database.url), 'postgres', 'template1', template];
    const answers = await Promise.all(shared.map(async (database) => [database, await connectAs(stack, roleOf(org.id), database)]));
    expect(Object.fromEntries(answers)).to.deep.equal(Object.fromEntries(shared.map((database) => [database, '42501']))); // permission denied for database
    expect(await connectAs(stack, roleOf(org.id), databaseOf(stack, org.id))).to.equal('connected');
    await exerciseUsers(org);
  });

  it("when its admin logs in and manages users, then the API works, connected to the organization's database as its role", async () => {
    const org = await createActiveOrganization(stack);
    await exerciseUsers(org);
    const sessions = await withClient(
      stack,
      async (c) => (await c.query<{ usename: string }>('SELECT usename FROM pg_stat_activity WHERE datname = $1', [databaseOf(stack, org.id)])).rows,
    );
    expect(sessions.length).to.be.greaterThan(0);
    for (const session of sessions) expect(session.usename).to.equal(roleOf(org.id));
  });

  it('when an organization from before roles (no role, service-owned database) is in a fleet run, then it gets its role, and the API uses the shared role until then', async function () {
    this.timeout(120000);
    const [old, current] = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack)]);
    const role = roleOf(old.id);
    // Back to how organizations were made before roles: everything owned by the service role, CONNECT for PUBLIC.
    await withClient(
      stack,
      async (c) => {
        await c.query(`REASSIGN OWNED BY ${quoteIdent(role)} TO CURRENT_USER`);
        await c.query(`DROP OWNED BY ${quoteIdent(role)}`);
        await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${quoteIdent(databaseOf(stack, old.id))} TO PUBLIC`);
      },
      databaseOf(stack, old.id),
    );
    await withClient(stack, (c) => c.query(`DROP ROLE ${quoteIdent(role)}`));
    await queryControlDatabase(stack, 'DELETE FROM tenant_database_roles WHERE org_id = $1', [old.id]);
    await publishEvict(old.id);

    expect((await organization(old.id)).database_role).to.equal('shared');
    await exerciseUsers(old); // through the shared role meanwhile

    const started = await stack.request.post('/migrations/runs').set('Authorization', authorization).expect(202);
    let run: Record<string, unknown> = {};
    for (const deadline = Date.now() + 60000; Date.now() < deadline && run.status !== 'completed'; await sleep(100)) {
      run = (await stack.request.get(started.headers.location).set('Authorization', authorization).expect(200)).body;
    }
    expect(run).to.include({ status: 'completed', failed: 0 });
    const statusOf = async (orgId: string) => (await stack.api.stores.trackedRuns.item(started.body.id, orgId))?.status;
    expect(await statusOf(old.id), 'the organization without a role').to.equal('succeeded');
    expect(await statusOf(current.id), 'an organization at the latest version with its role').to.equal('skipped');

    expect((await organization(old.id)).database_role).to.equal('own');
    const [owner] = await queryOrgDatabase<{ owner: string }>(stack, old.id, `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'users'`);
    expect(owner.owner).to.equal(role);
    expect(await connectAs(stack, roleOf(current.id), databaseOf(stack, old.id))).to.equal('42501');
    // The worker told the API (evict): its next connections log in as the new role.
    await exerciseUsers(old);
    const sessions = await withClient(
      stack,
      async (c) => (await c.query<{ usename: string }>('SELECT usename FROM pg_stat_activity WHERE datname = $1', [databaseOf(stack, old.id)])).rows,
    );
    expect(sessions.map((s) => s.usename)).to.deep.equal(sessions.map(() => role));
  });

  it('when a server is administered by a role with CREATEDB and CREATEROLE but no superuser (managed PostgreSQL), then its organizations get their own roles all the same', async function () {
    this.timeout(90000);
    const adminRole = `t${stack.id}_admin`;
    // As an operator would: PUBLIC may no longer CONNECT to postgres (the service closed it).
    await withClient(stack, (c) =>
      c.query(`CREATE ROLE ${quoteIdent(adminRole)} LOGIN CREATEDB CREATEROLE; GRANT CONNECT ON DATABASE postgres TO ${quoteIdent(adminRole)}`),
    );
    const url = new URL(stack.config.tenancy.serverUrl);
    url.username = adminRole;
    const registered = await stack.request
      .post('/database-servers')
      .set('Authorization', authorization)
      .send({ name: 'managed-createrole', admin_url: withDatabase(url.toString(), 'postgres'), capacity: 10, connection_budget: 4 })
      .expect(201);
    expect(registered.body.tenant_roles).to.equal(true);

    const org = await createOrganization(stack, { database_server: 'managed-createrole' } as Record<string, string>);
    expect((await waitForStatus(stack, org.id, ['active', 'failed'], 60000)).status).to.equal('active');
    expect(await organization(org.id)).to.include({ database_server: 'managed-createrole', database_role: 'own' });
    const [owner] = await queryOrgDatabase<{ owner: string }>(stack, org.id, `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'users'`);
    expect(owner.owner).to.equal(roleOf(org.id));
    await exerciseUsers(org);
    // The admin role still reaches the database (a member of the organization's role), as moves, exports and purges need.
    expect(await connectAs(stack, adminRole, databaseOf(stack, org.id))).to.equal('connected');
  });

  describe('a server whose admin role may not CREATE ROLE (managed PostgreSQL)', () => {
    let managedRole: string;
    let managedUrl: string;

    before(async () => {
      managedRole = `t${stack.id}_managed`;
      await withClient(stack, (c) =>
        c.query(`CREATE ROLE ${quoteIdent(managedRole)} LOGIN CREATEDB; GRANT CONNECT ON DATABASE postgres TO ${quoteIdent(managedRole)}`),
      );
      const url = new URL(stack.config.tenancy.serverUrl);
      url.username = managedRole;
      managedUrl = withDatabase(url.toString(), 'postgres');
    });

    it('when it is registered without opting out, then 400 database-server-unusable names the missing CREATEROLE', async () => {
      const res = await stack.request
        .post('/database-servers')
        .set('Authorization', authorization)
        .send({ name: 'managed-refused', admin_url: managedUrl, capacity: 10, connection_budget: 4 })
        .expect(400);
      expect(res.body.type).to.match(/database-server-unusable$/);
      expect(res.body.detail).to.include('CREATEROLE').and.include('tenant_roles');
      expect(await queryControlDatabase(stack, `SELECT 1 FROM database_servers WHERE name = 'managed-refused'`)).to.have.length(0);
    });

    it('when it is registered with tenant_roles=false, then its organizations work through its shared role and say database_role "shared"', async function () {
      this.timeout(90000);
      const registered = await stack.request
        .post('/database-servers')
        .set('Authorization', authorization)
        .send({ name: 'managed', admin_url: managedUrl, capacity: 10, connection_budget: 4, tenant_roles: false })
        .expect(201);
      expect(registered.body.tenant_roles).to.equal(false);

      const org = await createOrganization(stack, { database_server: 'managed' } as Record<string, string>);
      const active = await waitForStatus(stack, org.id, ['active', 'failed'], 60000);
      expect(active.status).to.equal('active');
      expect(await organization(org.id)).to.include({ database_server: 'managed', database_role: 'shared' });
      await exerciseUsers(org);
      const [owner] = await queryOrgDatabase<{ owner: string }>(
        stack,
        org.id,
        `SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = 'users'`,
      );
      expect(owner.owner).to.equal(managedRole);
      expect(await queryControlDatabase(stack, 'SELECT 1 FROM tenant_database_roles WHERE org_id = $1', [org.id])).to.have.length(0);
      const [role] = await withClient(stack, async (c) => (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roleOf(org.id)])).rows);
      expect(role, 'no role of its own was made').to.equal(undefined);
    });
  });
});
