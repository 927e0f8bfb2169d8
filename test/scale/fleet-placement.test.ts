import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { startWorker } from '../../harness/built-service';
import type { ServiceEnv } from '../../harness/service-env';
import { printLogs, type ServiceProcess } from '../../harness/service-process';
import {
  DEFAULT_SERVER,
  pgbouncerConsole,
  pgbouncerMaxDbConnections,
  registerSecondServer,
  SECOND_SERVER,
  startFleet,
  stopFleet,
  tenantBackends,
} from '../support/fleet-processes';
import { type ApiClient, waitForStatuses } from '../support/service-processes';

const BUDGET = 4;
const LOGIN_LIMIT = 12;

describe('Fleet at scale: 2 APIs + 2 workers, two PostgreSQL servers, one shared PgBouncer', () => {
  let fe: ServiceEnv;
  let api1: ApiClient;
  let api2: ApiClient;
  let orgs: { id: string; server: string }[] = [];
  let logins = 0;
  let workers: ServiceProcess[] = [];

  before(async function () {
    this.timeout(120000);
    const fleet = await startFleet({
      LOGIN_RATE_LIMIT_PER_IP: String(LOGIN_LIMIT),
      LOGIN_RATE_LIMIT_WINDOW_MS: '120000',
      WORKER_CONCURRENCY: '4',
      TENANT_CONNECTION_BUDGET: String(BUDGET),
    });
    ({ fe, api1, api2, workers } = fleet);
    logins = 2;
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'passed') printLogs();
  });

  after(async function () {
    this.timeout(60000);
    await stopFleet(fe);
  });

  it('when pg-b (capacity 30, behind PgBouncer) joins default (capacity 10) and 40 organizations are created through both APIs, then they fill both exactly, all active', async function () {
    this.timeout(150000);
    const { added, changed } = await registerSecondServer({ fe, api1, api2, workers }, { capacity: 30, defaultCapacity: 10, budget: BUDGET });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);

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
    const entries = (await pgbouncerConsole<{ name: string }>('SHOW DATABASES')).map((d) => d.name).filter((n) => n.startsWith(fe.orgPrefix));
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
    const pools = await pgbouncerConsole<{ database: string; cl_active: number; cl_idle: number; sv_idle: number; sv_active: number; sv_used: number }>(
      'SHOW POOLS',
    );
    const ours = pools.filter((p) => p.database.startsWith(fe.orgPrefix));
    expect(ours.length, 'PgBouncer pools of our databases').to.be.greaterThan(0);
  });

  it('when reads run on all 40 organizations through both APIs, then busy tenant backends per server stay within budget × 2 APIs and all within max_db_connections per database', async function () {
    this.timeout(60000);
    const maxDbConnections = await pgbouncerMaxDbConnections();
    const peaks = { default: { all: 0, busy: 0 }, 'pg-b': { all: 0, busy: 0 } };
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const [name, url] of [
          ['default', DEFAULT_SERVER],
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
    // A deleted organization keeps its room until it is purged: purge it, so the next one fits.
    expect((await api1.request('DELETE', `/organizations/${freed.id}?purge=true`)).status).to.equal(202);
    await waitForStatuses(fe, [freed.id], ['purged'], 30000);
    await Promise.all(workers.map((w) => w.kill()));
    const created = await api1.createOrganization(`Scale ${fe.id} long poll`);
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const started = Date.now();
    const poll = api2.request('GET', `/organizations/${created.body.id}/status`, { headers: { prefer: 'wait=5' } });
    await sleep(500);
    expect((await api1.request('DELETE', `/organizations/${created.body.id}`)).status).to.equal(200);
    const woke = await poll;
    const elapsed = Date.now() - started;
    process.stdout.write(`      long poll on API #2 answered after ${elapsed} ms with ${woke.body.status}\n`);
    expect(woke.headers.get('preference-applied')).to.equal('wait=5');
    expect(woke.body.status).to.equal('deleted');
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
