import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { Client } from 'pg';
import { startApi, startWorker } from '../../harness/built-service';
import { dropServiceResources, freePort, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { killAll, printLogs, type ServiceProcess } from '../../harness/service-process';
import { ApiClient, waitForStatuses } from '../support/service-processes';

/** What scripts/fleet/ensure-fleet-services.sh starts. */
const SECOND_SERVER = 'postgres://postgres@127.0.0.1:5433/postgres';
const PGBOUNCER_POOL = 'postgres://postgres@127.0.0.1:6432/postgres';
const PGBOUNCER_ADMIN = 'postgres://postgres@127.0.0.1:6432/pgbouncer';
const DATABASES_FILE = '/tmp/orgms-fleet/pgbouncer/databases.ini';
const BUDGET = 4;
const LOGIN_LIMIT = 12;

async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** PgBouncer's console takes only simple queries without parameters. */
async function console<T = Record<string, unknown>>(command: string): Promise<T[]> {
  return query<T>(PGBOUNCER_ADMIN, command);
}

/** Tenant backends of this environment on one server (its org databases, not the template): all, and those in a transaction. */
async function tenantBackends(serverUrl: string, prefix: string): Promise<{ all: number; busy: number }> {
  const [row] = await query<{ all: number; busy: number }>(
    serverUrl,
    `SELECT count(*)::int AS all, (count(*) FILTER (WHERE state <> 'idle'))::int AS busy
       FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $1 || 'template'`,
    [prefix],
  );
  return row;
}

describe('Fleet at scale: 2 APIs + 2 workers, two PostgreSQL servers, one shared PgBouncer', () => {
  let fe: ServiceEnv;
  let api1: ApiClient;
  let api2: ApiClient;
  let orgs: { id: string; server: string }[] = [];
  let logins = 0;
  let workers: ServiceProcess[] = [];

  before(async function () {
    this.timeout(120000);
    fe = await isolatedServiceEnv(
      {
        PGBOUNCER_DATABASES_FILE: DATABASES_FILE,
        PGBOUNCER_ADMIN_URL: PGBOUNCER_ADMIN,
        LOGIN_RATE_LIMIT_PER_IP: String(LOGIN_LIMIT),
        LOGIN_RATE_LIMIT_WINDOW_MS: '120000',
        WORKER_CONCURRENCY: '4',
        TENANT_CONNECTION_BUDGET: String(BUDGET),
      },
      'scale',
    );
    const port2 = await freePort();
    await startApi(fe, {}, 'api-1');
    await startApi({ ...fe, port: port2, baseUrl: `http://127.0.0.1:${port2}` }, { PORT: String(port2) }, 'api-2');
    workers = [await startWorker(fe, {}, 'worker-1'), await startWorker(fe, {}, 'worker-2')];
    api1 = new ApiClient(fe.baseUrl);
    api2 = new ApiClient(`http://127.0.0.1:${port2}`);
    await api1.adminToken();
    await api2.adminToken();
    logins = 2;
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'passed') printLogs();
  });

  after(async function () {
    this.timeout(60000);
    await killAll();
    if (!fe) return;
    const theirs = await query<{ datname: string }>(SECOND_SERVER, 'SELECT datname FROM pg_database WHERE left(datname, length($1)) = $1', [fe.orgPrefix]);
    for (const { datname } of theirs) await query(SECOND_SERVER, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await dropServiceResources(fe);
    // Our lines out of the shared PgBouncer's entries file, then RELOAD.
    const lines = (await readFile(DATABASES_FILE, 'utf8').catch(() => '')).split('\n');
    await writeFile(DATABASES_FILE, lines.filter((line) => !line.startsWith(fe.orgPrefix)).join('\n'));
    await console('RELOAD').catch(() => undefined);
  });

  it('when pg-b (capacity 30, behind PgBouncer) joins default (capacity 10) and 40 organizations are created through both APIs, then they fill both exactly, all active', async function () {
    this.timeout(150000);
    const added = await api1.request('POST', '/database-servers', {
      body: { name: 'pg-b', admin_url: SECOND_SERVER, pool_url: PGBOUNCER_POOL, capacity: 30, connection_budget: BUDGET },
    });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    const fleet = (await api1.request('GET', '/database-servers')).body.items as { id: string; name: string }[];
    const fallback = fleet.find((s) => s.name === 'default') as { id: string };
    const changed = await api2.request('PATCH', `/database-servers/${fallback.id}`, {
      body: { capacity: 10, pool_url: PGBOUNCER_POOL, connection_budget: BUDGET },
    });
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
    await sleep(5500); // every process re-reads the fleet within 5 s (fleet/server-directory.ts)

    const ids: string[] = [];
    for (let batch = 0; batch < 5; batch += 1) {
      const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? api1 : api2).createOrganization(`Scale ${fe.id} ${batch * 8 + i}`)));
      for (const answer of answers) {
        expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
        ids.push(answer.body.id);
      }
    }
    const statuses = await waitForStatuses(fe, ids, ['active', 'failed'], 120000);
    expect([...statuses.values()].filter((s) => s !== 'active')).to.deep.equal([]);
    orgs = await Promise.all(ids.map(async (id) => ({ id, server: (await api1.request('GET', `/organizations/${id}`)).body.database_server as string })));
    const counts = { default: orgs.filter((o) => o.server === 'default').length, 'pg-b': orgs.filter((o) => o.server === 'pg-b').length };
    expect(counts).to.deep.equal({ default: 10, 'pg-b': 30 });
    const full = await api2.createOrganization(`Scale ${fe.id} overflow`);
    expect(full.status).to.equal(503);
    expect(Number(full.headers.get('retry-after'))).to.be.greaterThan(0);
    // Every org database is an entry of the shared PgBouncer (the workers wrote the file and sent RELOAD).
    const entries = (await console<{ name: string }>('SHOW DATABASES')).map((d) => d.name).filter((n) => n.startsWith(fe.orgPrefix));
    expect(entries).to.have.lengthOf(40);
  });

  it('when users are created through API #1, then API #2 reads them, through PgBouncer, on both servers', async function () {
    this.timeout(60000);
    const sample = [...orgs.filter((o) => o.server === 'default').slice(0, 2), ...orgs.filter((o) => o.server === 'pg-b').slice(0, 2)];
    for (const org of sample) {
      const created = await api1.request('POST', `/organizations/${org.id}/users`, {
        body: { email: `member-${org.id.slice(0, 8)}@scale.test`, password: 'member password' },
      });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      const listed = await api2.request('GET', `/organizations/${org.id}/users`);
      expect(listed.body.items.map((u: { email: string }) => u.email)).to.include(`member-${org.id.slice(0, 8)}@scale.test`);
    }
    const pools = await console<{ database: string; cl_active: number; cl_idle: number; sv_idle: number; sv_active: number; sv_used: number }>('SHOW POOLS');
    const ours = pools.filter((p) => p.database.startsWith(fe.orgPrefix));
    expect(ours.length, 'PgBouncer pools of our databases').to.be.greaterThan(0);
  });

  it('when reads run on all 40 organizations through both APIs, then busy tenant backends per server stay within budget × 2 APIs and all within max_db_connections per database', async function () {
    this.timeout(60000);
    const [setting] = await console<{ key: string; value: string }>('SHOW CONFIG').then((rows) => rows.filter((r) => r.key === 'max_db_connections'));
    const maxDbConnections = Number(setting.value);
    const peaks = { default: { all: 0, busy: 0 }, 'pg-b': { all: 0, busy: 0 } };
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const [name, url] of [
          ['default', 'postgres://postgres@127.0.0.1:5432/postgres'],
          ['pg-b', SECOND_SERVER],
        ] as const) {
          const now = await tenantBackends(url, fe.orgPrefix);
          peaks[name] = { all: Math.max(peaks[name].all, now.all), busy: Math.max(peaks[name].busy, now.busy) };
        }
        await sleep(50);
      }
    })();
    let reads = 0;
    const until = Date.now() + 6000;
    await Promise.all(
      Array.from({ length: 24 }, async (_, worker) => {
        let i = worker;
        while (Date.now() < until) {
          const org = orgs[i % orgs.length];
          const answer = await (i % 2 === 0 ? api1 : api2).request('GET', `/organizations/${org.id}/users`);
          expect(answer.status).to.equal(200);
          reads += 1;
          i += 24;
        }
      }),
    );
    running = false;
    await sampler;
    process.stdout.write(
      `      reads: ${reads} in 6 s; peak tenant backends (all/busy): default ${peaks.default.all}/${peaks.default.busy} (10 databases), ` +
        `pg-b ${peaks['pg-b'].all}/${peaks['pg-b'].busy} (30 databases); budget ${BUDGET} × 2 APIs, PgBouncer max_db_connections ${maxDbConnections}\n`,
    );
    expect(reads).to.be.greaterThan(40);
    for (const peak of Object.values(peaks)) {
      expect(peak.all).to.be.greaterThan(0);
      // In transaction pooling PgBouncer uses a server connection only while a client's transaction runs,
      // and each API holds at most BUDGET client connections per server.
      expect(peak.busy).to.be.at.most(BUDGET * 2);
    }
    expect(peaks.default.all).to.be.at.most(maxDbConnections * 10);
    expect(peaks['pg-b'].all).to.be.at.most(maxDbConnections * 30);
  });

  it('when API #1 deletes an organization still pending, then a long poll (Prefer: wait=5) on API #2 wakes for it', async function () {
    this.timeout(60000);
    // Without workers the new organization stays pending: only API #1's DELETE changes it.
    const freed = orgs.find((o) => o.server === 'pg-b') as { id: string };
    expect((await api1.request('DELETE', `/organizations/${freed.id}`)).status).to.equal(202);
    await waitForStatuses(fe, [freed.id], ['deleted'], 30000); // a deleting organization still takes its room
    await Promise.all(workers.map((w) => w.kill()));
    const created = await api1.createOrganization(`Scale ${fe.id} long poll`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const started = Date.now();
    const poll = api2.request('GET', `/organizations/${created.body.id}/status`, { headers: { prefer: 'wait=5' } });
    await sleep(500);
    expect((await api1.request('DELETE', `/organizations/${created.body.id}`)).status).to.equal(202);
    const woke = await poll;
    const elapsed = Date.now() - started;
    process.stdout.write(`      long poll on API #2 answered after ${elapsed} ms with ${woke.body.status}\n`);
    expect(woke.headers.get('preference-applied')).to.equal('wait=5');
    expect(woke.body.status).to.equal('deleting');
    expect(elapsed).to.be.below(4000);
    workers = [await startWorker(fe, {}, 'worker-3')];
  });

  it('when logins fail alternately on both APIs, then the per-address limit counts across both', async function () {
    this.timeout(30000);
    let accepted = logins;
    for (let attempt = 0; attempt < LOGIN_LIMIT * 2; attempt += 1) {
      const answer = await (attempt % 2 === 0 ? api1 : api2).request('POST', '/auth/login', {
        auth: false,
        body: { email: `nobody-${attempt}@scale.test`, password: 'wrong password' },
      });
      if (answer.status === 429) break;
      expect(answer.status).to.equal(401);
      accepted += 1;
    }
    // Each API alone saw about half: only a shared counter stops the sum at the limit.
    expect(accepted).to.equal(LOGIN_LIMIT);
  });
});
