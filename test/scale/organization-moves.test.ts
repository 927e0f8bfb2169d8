import { setTimeout as sleep } from 'node:timers/promises';
import { withDatabase } from '@orgms/common/database/database-urls';
import { SecretBox } from '@orgms/common/secret-box';
import { databaseNameFor, quoteIdent, roleNameFor, stagingNameFor } from '@orgms/common/tenancy/database-names';
import { scramVerifier } from '@orgms/worker/tenancy/tenant-roles';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from '../support/control-database';
import { auth, createActiveOrganization, orgLogin } from '../support/org-users';
import { waitForStatus } from '../support/organizations';
import { startStack, type TestStack } from '../support/stack';

/** The second PostgreSQL that scripts/fleet/ensure-fleet-services.sh starts. */
const PG_B = 'postgres://postgres@127.0.0.1:5433/postgres';
const PG_A = 'postgres://postgres@127.0.0.1:5432/postgres';

async function onServer<T>(serverUrl: string, database: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: withDatabase(serverUrl, database) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(serverUrl: string, name: string): Promise<boolean> {
  return onServer(serverUrl, 'postgres', async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

async function roleExists(serverUrl: string, name: string): Promise<boolean> {
  return onServer(serverUrl, 'postgres', async (c) => (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount === 1);
}

type UserRow = { id: string; email: string; password_hash: string };

async function usersOn(serverUrl: string, database: string): Promise<UserRow[]> {
  return onServer(serverUrl, database, async (c) => (await c.query<UserRow>('SELECT id, email, password_hash FROM users ORDER BY id')).rows);
}

describe('Moving organizations between database servers, and draining a server (a second PostgreSQL on 5433)', () => {
  let stack: TestStack;
  let copyDelayMs = 0;
  let pgB: { id: string; name: string };
  const admin = async () => ({ Authorization: `Bearer ${await stack.adminToken()}` });
  const dbName = (orgId: string) => databaseNameFor(orgId, stack.config.tenancy.databasePrefix);

  before(async () => {
    stack = await startStack({
      env: { MOVE_SESSION_GRACE_MS: '500' },
      worker: { beforeMoveStep: async (step) => (step === 'copy' && copyDelayMs > 0 ? sleep(copyDelayMs) : undefined) },
    });
    const res = await stack.request
      .post('/database-servers')
      .set(await admin())
      .send({ name: 'pg-b', admin_url: PG_B, capacity: 100, connection_budget: 10 })
      .expect(201);
    pgB = res.body;
  });
  after(async () => {
    await stack?.stop();
  });

  it('when an organization with 500 users is moved, then it is moving then active on the target with identical users, reads never fail, writes answer 503 + Retry-After meanwhile, every acknowledged write is kept and the source is dropped', async () => {
    const org = await createActiveOrganization(stack);
    const source = dbName(org.id);
    await onServer(PG_A, source, (c) =>
      c.query(
        `INSERT INTO users (id, email, password_hash, role) SELECT gen_random_uuid(), 'bulk' || n || '@example.test', '$2b$04$' || md5(n::text), 'member' FROM generate_series(1, 500) n`,
      ),
    );
    const before = await usersOn(PG_A, source);
    expect(before).to.have.length(501);
    const token = await orgLogin(stack, org.id, org.email, org.password);

    // Reads and writes in a loop for as long as the move runs.
    let running = true;
    const readFailures: number[] = [];
    const acknowledged: string[] = [];
    const refused: { status: number; retryAfter: string | undefined }[] = [];
    let reads = 0;
    let n = 0;
    const traffic = (async () => {
      while (running) {
        const read = await stack.request.get(`/organizations/${org.id}/users`).set(auth(token));
        reads += 1;
        if (read.status !== 200) readFailures.push(read.status);
        n += 1;
        const email = `live${n}@example.test`;
        const write = await stack.request
          .post(`/organizations/${org.id}/users`)
          .set(auth(token))
          .send({ email, password: 'live user password', role: 'member', is_active: true });
        if (write.status === 201) acknowledged.push(email);
        else refused.push({ status: write.status, retryAfter: write.headers['retry-after'] });
      }
    })();

    copyDelayMs = 1500;
    await sleep(100);
    const started = Date.now();
    const res = await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'pg-b' })
      .expect(202);
    expect(res.headers.location).to.equal(`/organizations/${org.id}`);
    expect(res.body.status).to.equal('moving');
    const done = await waitForStatus(stack, org.id, ['active'], 120000);
    const movedInMs = Date.now() - started;
    copyDelayMs = 0;
    await sleep(300); // a few writes after the switch
    running = false;
    await traffic;
    console.log(
      `      move of 501 users (with a 1.5 s pause before copy): ${movedInMs} ms from POST to active; ${reads} reads, ${acknowledged.length} writes acknowledged, ${refused.length} refused`,
    );

    expect(done.database_server).to.equal('pg-b');
    expect(readFailures).to.deep.equal([]);
    expect(refused.length).to.be.greaterThan(0);
    for (const r of refused) {
      expect(r.status).to.equal(503);
      expect(Number(r.retryAfter)).to.be.greaterThan(0);
    }
    const after = await usersOn(PG_B, source);
    const byId = new Map(after.map((u) => [u.id, u]));
    for (const u of before) expect(byId.get(u.id)).to.deep.equal(u);
    const emails = new Set(after.map((u) => u.email));
    for (const email of acknowledged) expect(emails.has(email), email).to.equal(true);
    expect(after).to.have.length(before.length + acknowledged.length);
    // The source copy is dropped once nothing uses it.
    const deadline = Date.now() + 10000;
    while ((await databaseExists(PG_A, source)) && Date.now() < deadline) await sleep(100);
    expect(await databaseExists(PG_A, source)).to.equal(false);
    expect(await databaseExists(PG_B, stagingNameFor(source))).to.equal(false);
  });

  it('when an organization is moved, then its own role owns the copy on the target, with the same password (the API logs in as it there), PUBLIC may not connect, and the role is gone from the source', async () => {
    const org = await createActiveOrganization(stack);
    const name = dbName(org.id);
    const role = roleNameFor(org.id, stack.config.tenancy.databasePrefix);
    const passwordOn = (serverUrl: string) =>
      onServer(
        serverUrl,
        'postgres',
        async (c) => (await c.query<{ p: string }>('SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1', [role])).rows[0]?.p,
      );
    const verifierOnSource = await passwordOn(PG_A);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'pg-b' })
      .expect(202);
    expect(await waitForStatus(stack, org.id, ['active'], 120000)).to.include({ database_server: 'pg-b' });

    const owners = await onServer(
      PG_B,
      name,
      async (c) =>
        (
          await c.query<{ name: string; owner: string }>(
            `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
           UNION ALL SELECT 'database', pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()`,
          )
        ).rows,
    );
    expect(owners.map((o) => o.name)).to.include.members(['users', 'tenant_migrations', 'database']);
    for (const object of owners) expect(object, object.name).to.have.property('owner', role);
    const publicMayConnect = await onServer(
      PG_B,
      'postgres',
      async (c) => (await c.query<{ may: boolean }>(`SELECT has_database_privilege('public', $1, 'CONNECT') AS may`, [name])).rows[0].may,
    );
    expect(publicMayConnect).to.equal(false);
    // The same password on both servers (each verifier has its own salt): the stored one, opened, gives the target's verifier.
    const [row] = await queryControlDatabase<{ secret: string }>(stack, 'SELECT password_secret AS secret FROM tenant_database_roles WHERE org_id = $1', [
      org.id,
    ]);
    const password = new SecretBox(stack.config.secrets.current, stack.config.secrets.previous).open(row.secret);
    for (const verifier of [verifierOnSource, await passwordOn(PG_B)]) {
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(verifier ?? '') ?? [];
      expect(scramVerifier(password, Buffer.from(salt, 'base64'), Number(iterations))).to.equal(verifier);
    }
    await stack.request.get(`/organizations/${org.id}/users`).set(auth(token)).expect(200);
    const sessions = await onServer(
      PG_B,
      'postgres',
      async (c) => (await c.query<{ usename: string }>('SELECT usename FROM pg_stat_activity WHERE datname = $1', [name])).rows,
    );
    expect(sessions.map((s) => s.usename))
      .to.include(role)
      .and.not.include('postgres');

    const deadline = Date.now() + 10000;
    while ((await roleExists(PG_A, role)) && Date.now() < deadline) await sleep(100);
    expect(await roleExists(PG_A, role), 'the role on the source').to.equal(false);
    expect(await databaseExists(PG_A, name)).to.equal(false);
  });

  it('when a move names an unknown server, its own server, a non-active organization, or comes from an organization admin, then it is 400, 409, 409 with current_status, 403', async () => {
    const org = await createActiveOrganization(stack);
    const unknown = await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'nowhere' })
      .expect(400);
    expect(unknown.body.errors.map((e: { field: string }) => e.field)).to.include('body.database_server');
    await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'default' })
      .expect(409);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    await stack.request.post(`/organizations/${org.id}/move`).set(auth(token)).send({ database_server: 'pg-b' }).expect(403);
    await stack.request
      .delete(`/organizations/${org.id}`)
      .set(await admin())
      .expect(200);
    const gone = await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'pg-b' })
      .expect(409);
    expect(gone.body.current_status).to.equal('deleted');
  });

  it('when the target already holds a foreign database under the organization database name, then the move is rolled back: active on the source, writes work again, nothing of ours on the target', async () => {
    const org = await createActiveOrganization(stack);
    const name = dbName(org.id);
    await onServer(PG_B, 'postgres', (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
    await stack.request
      .post(`/organizations/${org.id}/move`)
      .set(await admin())
      .send({ database_server: 'pg-b' })
      .expect(202);
    const deadline = Date.now() + 60000;
    let status: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      status = (await stack.request.get(`/organizations/${org.id}/status`).set(await admin())).body;
      if (status.status === 'active' && status.last_error) break;
      await sleep(100);
    }
    expect(status.status).to.equal('active');
    expect(status.database_server).to.equal('default');
    expect(String(status.last_error)).to.match(/already exists on pg-b/);
    const token = await orgLogin(stack, org.id, org.email, org.password);
    await stack.request
      .post(`/organizations/${org.id}/users`)
      .set(auth(token))
      .send({ email: 'after-rollback@example.test', password: 'live user password', role: 'member', is_active: true })
      .expect(201);
    expect(await databaseExists(PG_B, stagingNameFor(name))).to.equal(false);
    expect(await databaseExists(PG_B, name)).to.equal(true); // the foreign one is left alone
    expect(await databaseExists(PG_A, name)).to.equal(true);
    const role = roleNameFor(org.id, stack.config.tenancy.databasePrefix);
    expect(await roleExists(PG_B, role), 'the role made on the target for the copy').to.equal(false);
    expect(await roleExists(PG_A, role)).to.equal(true);
  });

  it('when a server is drained, then it becomes draining, every active organization on it moves to another server and the drain reports its totals', async () => {
    const orgs = [];
    for (let i = 0; i < 2; i += 1) {
      const res = await stack.request
        .post('/organizations')
        .set(await admin())
        .send({ organization_name: `Drained ${stack.id} ${i}`, email: 'owner@example.test', password: 'correct horse battery', database_server: 'pg-b' })
        .expect(202);
      orgs.push(res.body.id as string);
    }
    for (const id of orgs) expect((await waitForStatus(stack, id, ['active'], 30000)).database_server).to.equal('pg-b');
    const started = await stack.request
      .post(`/database-servers/${pgB.id}/drain`)
      .set(await admin())
      .expect(202);
    expect(started.headers.location).to.equal(`/database-servers/${pgB.id}/drains/${started.body.id}`);
    expect(
      (
        await stack.request
          .get(`/database-servers/${pgB.id}`)
          .set(await admin())
          .expect(200)
      ).body.status,
    ).to.equal('draining');
    const deadline = Date.now() + 120000;
    let drain: Record<string, unknown> = {};
    while (Date.now() < deadline) {
      const res = await stack.request
        .get(started.headers.location)
        .set(await admin())
        .expect(200);
      drain = res.body;
      if (drain.status === 'completed') {
        expect(res.headers['retry-after']).to.equal(undefined);
        break;
      }
      expect(res.headers['retry-after']).to.be.a('string');
      await sleep(200);
    }
    // The organization moved there by the first spec is drained too.
    expect(drain).to.include({ status: 'completed', failed: 0, skipped: 0, pending: 0, progress: 1 });
    expect(drain.total).to.equal(drain.succeeded);
    expect(drain.total).to.be.at.least(2);
    for (const id of orgs) {
      const status = await waitForStatus(stack, id, ['active']);
      expect(status.database_server).to.equal('default');
      expect(await databaseExists(PG_A, dbName(id))).to.equal(true);
    }
    const server = await stack.request
      .get(`/database-servers/${pgB.id}`)
      .set(await admin())
      .expect(200);
    expect(server.body.organizations).to.equal(0);
  });
});
