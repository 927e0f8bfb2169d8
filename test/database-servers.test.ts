import fs from 'node:fs';
import { withDatabase } from '@orgms/common/database/database-urls';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { databaseOf } from './support/org-databases';
import { createOrganization, uniqueName, waitForStatus } from './support/organizations';
import { SECOND_SERVER_URL, startStack, type TestStack } from './support/stack';

/** Runs SQL on the second server (scripts/fleet/ensure-fleet-services.sh starts it on 5433). */
async function onSecondServer<T = Record<string, unknown>>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
  const client = new Client({ connectionString: withDatabase(SECOND_SERVER_URL, database) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

interface ServerBody {
  id: string;
  name: string;
  admin_url: string;
  pool_url: string | null;
  capacity: number;
  connection_budget: number;
  status: string;
  organizations: number;
  free_capacity: number;
}

describe('Database server fleet (/database-servers)', function () {
  this.timeout(60000);
  let stack: TestStack;
  let auth: string;

  before(async () => {
    stack = await startStack({ worker: true });
    auth = `Bearer ${await stack.adminToken()}`;
  });
  after(() => stack?.stop());

  const servers = async (): Promise<ServerBody[]> => (await stack.request.get('/database-servers').set('Authorization', auth).expect(200)).body.items;
  const byName = async (name: string) => (await servers()).find((s) => s.name === name) as ServerBody;
  const register = (body: Record<string, unknown>) => stack.request.post('/database-servers').set('Authorization', auth).send(body);
  const patch = (id: string, body: Record<string, unknown>) => stack.request.patch(`/database-servers/${id}`).set('Authorization', auth).send(body);
  const serverCount = async () => Number((await queryControlDatabase<{ n: string }>(stack, 'SELECT count(*) AS n FROM database_servers'))[0].n);

  it('when the service starts, then the fleet is exactly "default" (ORG_DATABASE_URL) and every organization shows database_server "default"', async () => {
    const fleet = await servers();
    expect(fleet.map((s) => s.name)).to.deep.equal(['default']);
    expect(fleet[0].admin_url).to.equal(stack.config.tenancy.serverUrl);
    expect(fleet[0].status).to.equal('active');
    const org = await createOrganization(stack);
    const active = await waitForStatus(stack, org.id, ['active']);
    expect(active.database_server).to.equal('default');
    const listed = await stack.request.get('/organizations').set('Authorization', auth).expect(200);
    for (const item of listed.body.items) expect(item.database_server).to.equal('default');
    expect((await byName('default')).organizations).to.equal(1);
  });

  it('when a reachable server is registered with a password in its URL, then 201 + Location, answers mask the password and the stored column holds neither password nor host', async () => {
    const res = await register({ name: 'pg-b', admin_url: 'postgres://postgres:s3cret@127.0.0.1:5433/postgres', capacity: 0, connection_budget: 5 }).expect(
      201,
    );
    expect(res.headers.location).to.equal(`/database-servers/${res.body.id}`);
    expect(res.body).to.include({
      name: 'pg-b',
      admin_url: 'postgres://postgres:****@127.0.0.1:5433/postgres',
      pool_url: null,
      capacity: 0,
      status: 'active',
      organizations: 0,
    });
    const read = await stack.request.get(res.headers.location).set('Authorization', auth).expect(200);
    const listed = await stack.request.get('/database-servers').set('Authorization', auth).expect(200);
    for (const answer of [res.text, read.text, listed.text]) expect(answer).to.not.contain('s3cret');
    const [row] = await queryControlDatabase<{ admin_url_secret: string }>(stack, 'SELECT admin_url_secret FROM database_servers WHERE name = $1', ['pg-b']);
    expect(row.admin_url_secret).to.not.contain('s3cret');
    expect(row.admin_url_secret).to.not.contain('127.0.0.1');
    expect(row.admin_url_secret).to.not.contain('5433');
  });

  it('when the name is taken, then 409 and nothing more is stored', async () => {
    const before = await serverCount();
    const res = await register({ name: 'pg-b', admin_url: SECOND_SERVER_URL, capacity: 10, connection_budget: 5 }).expect(409);
    expect(res.type).to.equal('application/problem+json');
    expect(await serverCount()).to.equal(before);
  });

  it('when the server does not answer, then 400 database-server-unusable with the reason, and nothing is stored', async () => {
    const before = await serverCount();
    const res = await register({ name: 'pg-dead', admin_url: 'postgres://postgres:hunter22@127.0.0.1:1/postgres', capacity: 10, connection_budget: 5 }).expect(
      400,
    );
    expect(res.body.type).to.match(/database-server-unusable$/);
    expect(res.body.detail).to.match(/cannot connect/);
    expect(res.text).to.not.contain('hunter22');
    expect(await serverCount()).to.equal(before);
  });

  it('when a port refuses and an address does not route, then both reasons say only "cannot connect to host:port", after the same wait', async () => {
    const reasons: string[] = [];
    const waits: number[] = [];
    for (const url of ['postgres://postgres@127.0.0.1:1/postgres', 'postgres://postgres@192.0.2.1:5432/postgres']) {
      const started = Date.now();
      const res = await register({ name: 'pg-dead', admin_url: url, capacity: 10, connection_budget: 5 }).expect(400);
      waits.push(Date.now() - started);
      expect(res.type).to.equal('application/problem+json');
      reasons.push(res.body.detail);
    }
    expect(reasons[0]).to.match(/cannot connect to 127\.0\.0\.1:1\b/);
    expect(reasons[0].replace('127.0.0.1:1', 'HOST')).to.equal(reasons[1].replace('192.0.2.1:5432', 'HOST'));
    // A refused port answers at once, a filtered one at the probe's timeout: both answers wait for the timeout.
    for (const wait of waits) expect(wait).to.be.at.least(2900);
  });

  it('when a URL carries its password or another credential as a parameter, then 400 naming the field and where the password goes, and nothing is stored', async () => {
    const before = await serverCount();
    const good = { name: 'pg-leak', admin_url: SECOND_SERVER_URL, capacity: 0, connection_budget: 5 };
    const bodies = [
      { ...good, admin_url: `${SECOND_SERVER_URL}?password=hunter22` },
      { ...good, admin_url: `${SECOND_SERVER_URL}?sslmode=disable&sslpassword=hunter22` },
      { ...good, pool_url: 'postgres://postgres@127.0.0.1:6432/postgres?passfile=hunter22' },
    ];
    for (const body of bodies) {
      const res = await register(body).expect(400);
      expect(res.type).to.equal('application/problem+json');
      const field = 'pool_url' in body ? 'body.pool_url' : 'body.admin_url';
      expect(
        res.body.errors.map((e: { field: string }) => e.field),
        JSON.stringify(body),
      ).to.deep.equal([field]);
      expect(res.body.detail).to.contain('postgres://user:password@host');
      expect(res.text).to.not.contain('hunter22');
    }
    const pgB = await byName('pg-b');
    const changed = await patch(pgB.id, { admin_url: 'postgres://postgres@127.0.0.1:5433/postgres?password=hunter22' }).expect(400);
    expect(changed.body.errors[0].field).to.equal('body.admin_url');
    expect(await serverCount()).to.equal(before);
    expect(JSON.stringify(await servers())).to.not.contain('hunter22');
  });

  it('when a URL names a file (sslrootcert=/etc/passwd …) or any parameter but sslmode, application_name and connect_timeout, then 400 naming it before any file is opened', async () => {
    const before = await serverCount();
    const missing = `/nonexistent-${stack.id}/key.pem`;
    const opened: string[] = [];
    const readFileSync = fs.readFileSync;
    fs.readFileSync = ((path: fs.PathOrFileDescriptor, ...rest: never[]) => {
      if (String(path) === '/etc/passwd' || String(path) === missing) opened.push(String(path));
      return readFileSync(path, ...rest);
    }) as typeof fs.readFileSync;
    try {
      for (const [parameter, value] of [
        ['sslrootcert', '/etc/passwd'],
        ['sslcert', missing],
        ['sslkey', missing],
        ['host', '/var/run/postgresql'],
      ]) {
        const res = await register({ name: 'pg-files', admin_url: `${SECOND_SERVER_URL}?${parameter}=${value}`, capacity: 0, connection_budget: 5 }).expect(
          400,
        );
        expect(res.body.type).to.match(/validation-error$/);
        expect(res.body.errors[0].field).to.equal('body.admin_url');
        expect(res.body.detail).to.contain(`"${parameter}"`).and.to.contain('allowed: sslmode, application_name, connect_timeout');
        expect(res.text).to.not.match(/ENOENT|nonexistent|\/etc\/passwd/);
      }
      const pgB = await byName('pg-b');
      await patch(pgB.id, { pool_url: `postgres://postgres@127.0.0.1:6432/postgres?sslkey=${missing}` }).expect(400);
    } finally {
      fs.readFileSync = readFileSync;
    }
    expect(opened).to.deep.equal([]);
    expect(await serverCount()).to.equal(before);
  });

  it('when a URL carries only sslmode, application_name and connect_timeout, then the server is registered', async () => {
    const res = await register({
      name: 'pg-params',
      admin_url: `${SECOND_SERVER_URL}?sslmode=disable&application_name=orgms&connect_timeout=5`,
      capacity: 0,
      connection_budget: 5,
    }).expect(201);
    expect(res.body.admin_url).to.equal(`${SECOND_SERVER_URL}?sslmode=disable&application_name=orgms&connect_timeout=5`);
  });

  it('when the role may not create databases, then 400 database-server-unusable naming CREATEDB, and nothing is stored', async () => {
    const role = `nocreatedb_${stack.id}`;
    // PUBLIC may no longer CONNECT to postgres (the service closed it): what decides here is CREATEDB.
    await onSecondServer(`CREATE ROLE ${role} LOGIN NOCREATEDB; GRANT CONNECT ON DATABASE postgres TO ${role}`);
    try {
      const before = await serverCount();
      const res = await register({ name: 'pg-weak', admin_url: `postgres://${role}@127.0.0.1:5433/postgres`, capacity: 10, connection_budget: 5 }).expect(400);
      expect(res.body.type).to.match(/database-server-unusable$/);
      expect(res.body.detail).to.contain('CREATEDB');
      expect(await serverCount()).to.equal(before);
    } finally {
      await onSecondServer(`DROP OWNED BY ${role}; DROP ROLE IF EXISTS ${role}`);
    }
  });

  it('when bodies are malformed, then 400 and nothing is stored', async () => {
    const before = await serverCount();
    const good = { name: 'pg-c', admin_url: SECOND_SERVER_URL, capacity: 10, connection_budget: 5 };
    const bad: Record<string, unknown>[] = [
      {},
      { ...good, name: 'PG C' },
      { ...good, name: '' },
      { ...good, admin_url: 'mysql://root@127.0.0.1/x' },
      { ...good, admin_url: 'not a url' },
      { ...good, capacity: -1 },
      { ...good, capacity: 1.5 },
      { ...good, connection_budget: 0 },
      { ...good, status: 'sleeping' },
      { ...good, extra: true },
      { name: 'pg-c', capacity: 10, connection_budget: 5 },
    ];
    for (const body of bad) {
      const res = await register(body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
    }
    const pgB = await byName('pg-b');
    await patch(pgB.id, {}).expect(400);
    await patch(pgB.id, { capacity: 'many' }).expect(400);
    await patch(pgB.id, { name: 'renamed' }).expect(400);
    await stack.request.get('/database-servers/not-a-uuid').set('Authorization', auth).expect(400);
    await stack.request.get('/database-servers/00000000-0000-4000-8000-000000000000').set('Authorization', auth).expect(404);
    expect(await serverCount()).to.equal(before);
  });

  it('when the caller is not a platform admin, then 401 without a token and 403 with an organization admin token', async () => {
    await stack.request.get('/database-servers').expect(401);
    await stack.request.post('/database-servers').send({ name: 'pg-x', admin_url: SECOND_SERVER_URL, capacity: 1, connection_budget: 1 }).expect(401);
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    const login = await stack.request.post('/admin/login').send({ organization_id: org.id, email: org.email, password: org.password }).expect(200);
    const orgAdmin = `Bearer ${login.body.access_token}`;
    await stack.request.get('/database-servers').set('Authorization', orgAdmin).expect(403);
    await stack.request
      .post('/database-servers')
      .set('Authorization', orgAdmin)
      .send({ name: 'pg-x', admin_url: SECOND_SERVER_URL, capacity: 1, connection_budget: 1 })
      .expect(403);
    const pgB = await byName('pg-b');
    await stack.request.patch(`/database-servers/${pgB.id}`).set('Authorization', orgAdmin).send({ capacity: 99 }).expect(403);
    await stack.request
      .post('/organizations')
      .set('Authorization', orgAdmin)
      .send({ organization_name: uniqueName(), email: 'o@example.test', password: 'correct horse battery', database_server: 'pg-b' })
      .expect(403);
  });

  it('when capacity, budget and status are changed, then the answer and the list show the change', async () => {
    const pgB = await byName('pg-b');
    const res = await patch(pgB.id, { capacity: 7, connection_budget: 3, status: 'draining' }).expect(200);
    expect(res.body).to.include({ capacity: 7, connection_budget: 3, status: 'draining', free_capacity: 7 });
    expect(await byName('pg-b')).to.include({ capacity: 7, status: 'draining' });
    const back = await patch(pgB.id, { status: 'active', capacity: 10 }).expect(200);
    expect(back.body).to.include({ status: 'active', capacity: 10 });
  });

  it('when a platform admin names database_server, then the organization lands there, becomes active and its database exists on that server', async () => {
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', auth)
      .send({ organization_name: uniqueName('Placed'), email: 'owner@example.test', password: 'correct horse battery', database_server: 'pg-b' })
      .expect(202);
    expect(res.body.database_server).to.equal('pg-b');
    const active = await waitForStatus(stack, res.body.id, ['active'], 30000);
    expect(active.database_server).to.equal('pg-b');
    const found = await onSecondServer('SELECT datname FROM pg_database WHERE datname = $1', [databaseOf(stack, res.body.id)]);
    expect(found).to.have.lengthOf(1);
    expect((await byName('pg-b')).organizations).to.equal(1);
    // Its users live there too.
    const login = await stack.request
      .post('/admin/login')
      .send({ organization_id: res.body.id, email: 'owner@example.test', password: 'correct horse battery' })
      .expect(200);
    await stack.request
      .post(`/organizations/${res.body.id}/users`)
      .set('Authorization', `Bearer ${login.body.access_token}`)
      .send({ email: 'member@example.test', password: 'member password' })
      .expect(201);
    const users = await onSecondServer<{ email: string }>('SELECT email FROM users ORDER BY email', [], databaseOf(stack, res.body.id));
    expect(users.map((u) => u.email)).to.include('member@example.test');
  });

  it('when a platform admin names an unknown or draining server, then 400 or 409 and nothing is recorded', async () => {
    const body = () => ({ organization_name: uniqueName('Nowhere'), email: 'o@example.test', password: 'correct horse battery' });
    const before = (await queryControlDatabase<{ n: string }>(stack, 'SELECT count(*) AS n FROM organizations'))[0].n;
    await stack.request
      .post('/organizations')
      .set('Authorization', auth)
      .send({ ...body(), database_server: 'pg-nope' })
      .expect(400);
    const pgB = await byName('pg-b');
    await patch(pgB.id, { status: 'draining' }).expect(200);
    try {
      await stack.request
        .post('/organizations')
        .set('Authorization', auth)
        .send({ ...body(), database_server: 'pg-b' })
        .expect(409);
    } finally {
      await patch(pgB.id, { status: 'active' }).expect(200);
    }
    expect((await queryControlDatabase<{ n: string }>(stack, 'SELECT count(*) AS n FROM organizations'))[0].n).to.equal(before);
  });

  it('when no server names are given, then placement goes to the server with the most free capacity', async () => {
    const fleet = await servers();
    const pgB = fleet.find((s) => s.name === 'pg-b') as ServerBody;
    const fallback = fleet.find((s) => s.name === 'default') as ServerBody;
    // default: 3 free, pg-b: 5 free.
    await patch(fallback.id, { capacity: fallback.organizations + 3 }).expect(200);
    await patch(pgB.id, { capacity: pgB.organizations + 5 }).expect(200);
    const placed: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const org = await createOrganization(stack);
      placed.push((await stack.request.get(`/organizations/${org.id}`).set('Authorization', auth).expect(200)).body.database_server);
    }
    // 5/3 → pg-b; 4/3 → pg-b; 3/3 tie → fewer organizations (default holds 2, pg-b 3) → default; 3/2 → pg-b.
    expect(placed).to.deep.equal(['pg-b', 'pg-b', 'default', 'pg-b']);
  });

  it('when every server is full, then POST /organizations answers 503 with Retry-After and records nothing', async () => {
    for (const server of await servers()) await patch(server.id, { capacity: server.organizations }).expect(200);
    const name = uniqueName('Full');
    const before = (await queryControlDatabase<{ n: string }>(stack, 'SELECT count(*) AS n FROM organizations'))[0].n;
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', auth)
      .send({ organization_name: name, email: 'o@example.test', password: 'correct horse battery' })
      .expect(503);
    expect(res.type).to.equal('application/problem+json');
    expect(Number(res.headers['retry-after'])).to.be.greaterThan(0);
    expect((await queryControlDatabase<{ n: string }>(stack, 'SELECT count(*) AS n FROM organizations'))[0].n).to.equal(before);
    expect(await queryControlDatabase(stack, 'SELECT 1 FROM organizations WHERE name = $1', [name])).to.have.lengthOf(0);
    // Room again: the same request succeeds.
    const fallback = await byName('default');
    await patch(fallback.id, { capacity: fallback.organizations + 1 }).expect(200);
    await stack.request
      .post('/organizations')
      .set('Authorization', auth)
      .send({ organization_name: name, email: 'o@example.test', password: 'correct horse battery' })
      .expect(202);
  });

  it('when a server is registered, changed and drained, then each is in the audit log with its admin and request, naming settings but never a URL', async () => {
    const created = await register({
      name: 'pg-audit',
      admin_url: 'postgres://postgres:s3cret@127.0.0.1:5433/postgres',
      capacity: 0,
      connection_budget: 5,
    }).expect(201);
    const id = created.body.id as string;
    const changed = await patch(id, { capacity: 0, pool_url: 'postgres://postgres:s3cret@127.0.0.1:6432/postgres' }).expect(200);
    const drained = await stack.request.post(`/database-servers/${id}/drain`).set('Authorization', auth).expect(202);

    const entries = (await stack.request.get('/audit').set('Authorization', auth).query({ action: 'database_server.*' }).expect(200)).body.items.filter(
      (entry: { target: { id: string } }) => entry.target.id === id,
    );
    const adminId = (await stack.request.get('/me').set('Authorization', auth).expect(200)).body.id;
    expect(entries.map((e: { action: string }) => e.action).reverse()).to.deep.equal([
      'database_server.created',
      'database_server.updated',
      'database_server.updated',
      'database_server.drain_started',
    ]);
    const [drainStarted, draining, settings, registered] = entries;
    for (const entry of entries) expect(entry.actor).to.deep.equal({ kind: 'platform_admin', id: adminId });
    expect(registered).to.deep.include({ request_id: created.headers['x-request-id'], target: { type: 'database_server', id } });
    expect(registered.details).to.deep.equal({ name: 'pg-audit', capacity: 0, connection_budget: 5, tenant_roles: true });
    expect(settings).to.deep.include({ request_id: changed.headers['x-request-id'], details: { changed: ['pool_url', 'capacity'] } });
    expect(draining.details).to.deep.equal({ changed: ['status'], status_before: 'active', status_after: 'draining' });
    expect(drainStarted).to.deep.include({ request_id: drained.headers['x-request-id'], details: { drain_id: drained.body.id } });
    expect(JSON.stringify(entries)).to.not.match(/s3cret|postgres:\/\//);
  });
});

describe('Database server choice under self-signup', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { ALLOW_SELF_SIGNUP: 'true' } });
  });
  after(() => stack?.stop());

  it('when a caller without a platform admin token names database_server, then 403 and nothing is recorded; without it the signup is accepted', async () => {
    const name = uniqueName('Signup');
    await stack.request
      .post('/organizations')
      .send({ organization_name: name, email: 'o@example.test', password: 'correct horse battery', database_server: 'default' })
      .expect(403);
    expect(await queryControlDatabase(stack, 'SELECT 1 FROM organizations WHERE name = $1', [name])).to.have.lengthOf(0);
    const res = await stack.request
      .post('/organizations')
      .send({ organization_name: name, email: 'o@example.test', password: 'correct horse battery' })
      .expect(202);
    expect(res.body.database_server).to.equal('default');
  });
});
