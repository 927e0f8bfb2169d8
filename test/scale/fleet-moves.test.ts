import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { withDatabase } from '@orgms/common/database/database-urls';
import { databaseNameFor, stagingNameFor } from '@orgms/common/tenancy/database-names';
import { hashSync } from 'bcrypt';
import { expect } from 'chai';
import { Client } from 'pg';
import { startWorker } from '../../harness/built-service';
import type { ServiceEnv } from '../../harness/service-env';
import { printLogs, type ServiceProcess } from '../../harness/service-process';
import { waitUntil } from '../../harness/wait';
import {
  DATABASES_FILE,
  DEFAULT_SERVER,
  PGBOUNCER_ADMIN,
  pgbouncerMaxDbConnections,
  query,
  registerSecondServer,
  SECOND_SERVER,
  startFleet,
  stopFleet,
} from '../support/fleet-processes';
import { type ApiClient, waitForStatuses } from '../support/service-processes';

/** Per server and per API process: the pools of all its organizations together (connection_budget). */
const BUDGET = 6;
const APIS = 2;
const OWNER = { email: 'owner@faults.test', password: 'correct horse battery' };
const SERVERS = { default: { url: DEFAULT_SERVER, port: 5432 }, 'pg-b': { url: SECOND_SERVER, port: 5433 } } as const;
type ServerName = keyof typeof SERVERS;
type UserRow = { id: string; email: string; password_hash: string };

async function databaseExists(server: ServerName, name: string): Promise<boolean> {
  return (await query(SERVERS[server].url, 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;
}

async function usersOn(server: ServerName, database: string): Promise<UserRow[]> {
  return query<UserRow>(withDatabase(SERVERS[server].url, database), 'SELECT id, email, password_hash FROM users ORDER BY id');
}

/** The highest number seen of each kind of tenant connection, per server. */
interface ConnectionPeaks {
  /** Client connections of the APIs to PgBouncer for this server's organization databases. */
  clients: number;
  /** PgBouncer's server connections to this server (SHOW SERVERS), all our databases together. */
  pooled: number;
  /** The same for the busiest single database. */
  pooledPerDatabase: number;
  /** Backends of our organization databases on this server that are not PgBouncer's: the worker's pg_dump, pg_restore and verification. */
  direct: number;
  /** What the direct sessions were when there were the most (application name, state, start of the query). */
  directAtPeak: string[];
}

/**
 * Samples the tenant connections of this environment every `everyMs`. Nothing in
 * pg_stat_activity itself tells PgBouncer's backends from the worker's (no application_name is
 * set by either), but PgBouncer's SHOW SERVERS names the backend pid of each of its server
 * connections (remote_pid): every other backend of our databases is a direct one.
 */
async function sampleConnections(prefix: string, everyMs: number): Promise<{ stop: () => Promise<Record<ServerName, ConnectionPeaks> & { samples: number }> }> {
  const peaks: Record<ServerName, ConnectionPeaks> = {
    default: { clients: 0, pooled: 0, pooledPerDatabase: 0, direct: 0, directAtPeak: [] },
    'pg-b': { clients: 0, pooled: 0, pooledPerDatabase: 0, direct: 0, directAtPeak: [] },
  };
  const names = Object.keys(SERVERS) as ServerName[];
  // Connections of its own, opened once, so that a sample takes milliseconds (none is to one of our databases).
  const connect = async (url: string) => {
    const client = new Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const onServers = await Promise.all(names.map((name) => connect(SERVERS[name].url)));
  const bouncer = await connect(PGBOUNCER_ADMIN);
  const show = async <T>(command: string) => (await bouncer.query(command)).rows as T[];
  let samples = 0;
  let running = true;
  const ours = (database: string) => database.startsWith(prefix) && database !== `${prefix}template`;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      // PgBouncer's list before and after: a server connection opened or closed meanwhile still counts as PgBouncer's.
      const listed = (await show<{ database: string; port: number; remote_pid: number }>('SHOW SERVERS')).filter((s) => ours(s.database));
      const backends = await Promise.all(
        onServers.map(
          async (client) =>
            (
              await client.query<{ pid: number; what: string }>(
                `SELECT pid, concat_ws(':', application_name, state, left(query, 40)) AS what FROM pg_stat_activity WHERE left(datname, length($1)) = $1 AND datname <> $1 || 'template'`,
                [prefix],
              )
            ).rows,
        ),
      );
      const servers = (await show<{ database: string; port: number; remote_pid: number }>('SHOW SERVERS')).filter((s) => ours(s.database));
      const clients = (await show<{ database: string }>('SHOW CLIENTS')).filter((c) => ours(c.database));
      const routes = new Map((await show<{ name: string; port: number }>('SHOW DATABASES')).filter((d) => ours(d.name)).map((d) => [d.name, Number(d.port)]));
      names.forEach((name, i) => {
        const port = SERVERS[name].port;
        const pooled = servers.filter((s) => Number(s.port) === port);
        const perDatabase = new Map<string, number>();
        for (const s of pooled) perDatabase.set(s.database, (perDatabase.get(s.database) ?? 0) + 1);
        const pooledPids = new Set([...listed, ...pooled].filter((s) => Number(s.port) === port).map((s) => Number(s.remote_pid)));
        const peak = peaks[name];
        peak.clients = Math.max(peak.clients, clients.filter((c) => routes.get(c.database) === port).length);
        peak.pooled = Math.max(peak.pooled, pooled.length);
        peak.pooledPerDatabase = Math.max(peak.pooledPerDatabase, ...perDatabase.values(), 0);
        const direct = backends[i].filter((b) => !pooledPids.has(Number(b.pid)));
        if (direct.length > peak.direct) peak.directAtPeak = direct.map((b) => b.what);
        peak.direct = Math.max(peak.direct, direct.length);
      });
      samples += 1;
      await sleep(Math.max(0, everyMs - (Date.now() - started)));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop.finally(() => Promise.all([...onServers, bouncer].map((c) => c.end().catch(() => undefined))));
      return { ...peaks, samples };
    },
  };
}

describe('Moves on the fleet: 2 APIs + 2 workers as processes, two PostgreSQL servers behind one PgBouncer', () => {
  let fe: ServiceEnv;
  let api1: ApiClient;
  let api2: ApiClient;
  let workers: ServiceProcess[] = [];
  let peaks: (Record<ServerName, ConnectionPeaks> & { samples: number }) | undefined;
  let sampledForMs = 0;
  const dbName = (orgId: string) => databaseNameFor(orgId, fe.orgPrefix);

  /** An organization active on `default`, and a token of its owner (valid on both APIs: one JWT secret). */
  async function activeOrganizationOnDefault(name: string): Promise<{ id: string; token: string }> {
    const created = await api1.createOrganization(`${name} ${fe.id}`, { database_server: 'default' });
    expect(created.status, JSON.stringify(created.body)).to.equal(202);
    const id = created.body.id as string;
    expect((await waitForStatuses(fe, [id], ['active', 'failed'], 60000)).get(id)).to.equal('active');
    const login = await api2.request('POST', '/admin/login', { auth: false, body: { organization_id: id, ...OWNER } });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    return { id, token: login.body.access_token as string };
  }

  async function addUsers(orgId: string, count: number): Promise<void> {
    // One precomputed bcrypt hash for all: bulk users are for moving, not for logging in.
    await query(
      withDatabase(DEFAULT_SERVER, dbName(orgId)),
      `INSERT INTO users (id, email, password_hash, role) SELECT gen_random_uuid(), 'bulk' || n || '@scale.test', $1, 'member' FROM generate_series(1, $2::int) n`,
      [hashSync('bulk user password', 4), count],
    );
  }

  async function pgbouncerEntry(database: string): Promise<string | undefined> {
    return (await readFile(DATABASES_FILE, 'utf8')).split('\n').find((line) => line.startsWith(`${database} =`));
  }

  before(async function () {
    this.timeout(120000);
    ({ fe, api1, api2, workers } = await startFleet({
      WORKER_CONCURRENCY: '2',
      TENANT_POOL_SIZE: '4',
      TENANT_CONNECTION_BUDGET: String(BUDGET),
      MOVE_SESSION_GRACE_MS: '2000',
    }));
    const { added, changed } = await registerSecondServer({ fe, api1, api2, workers }, { capacity: 10, defaultCapacity: 10, budget: BUDGET });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    expect(changed.status, JSON.stringify(changed.body)).to.equal(200);
  });

  afterEach(function () {
    if (this.currentTest?.state !== 'passed') printLogs();
  });

  after(async function () {
    this.timeout(60000);
    await stopFleet(fe);
  });

  it('when an organization with 500 users is moved under a steady stream of reads and writes through both APIs, then no read fails, every write that got a 2xx is present afterwards, users are identical on the target, and the source database is gone', async function () {
    this.timeout(180000);
    const org = await activeOrganizationOnDefault('Moved');
    const database = dbName(org.id);
    await addUsers(org.id, 500);
    const before = await usersOn('default', database);
    expect(before).to.have.length(501);
    const headers = { authorization: `Bearer ${org.token}` };

    const sampler = await sampleConnections(fe.orgPrefix, 100);
    const samplingFrom = Date.now();
    let running = true;
    const counts = { reads: 0, writes: 0, refused: 0 };
    const readFailures: string[] = [];
    const writeFailures: string[] = [];
    const acknowledged: string[] = [];
    const readers = [api1, api2, api1, api2].map(async (api, r) => {
      for (let i = 0; running; i += 1) {
        const path = i % 2 === 0 ? `/organizations/${org.id}/users?limit=100` : `/organizations/${org.id}/users/${before[(i * 7 + r) % before.length].id}`;
        const answer = await api.request('GET', path, { headers });
        counts.reads += 1;
        if (answer.status !== 200) readFailures.push(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    });
    const writers = [api1, api2].map(async (api, w) => {
      for (let i = 0; running; i += 1) {
        const email = `live-${w}-${i}@scale.test`;
        const answer = await api.request('POST', `/organizations/${org.id}/users`, {
          headers,
          body: { email, password: 'live user password', role: 'member', is_active: true },
        });
        counts.writes += 1;
        if (answer.status >= 200 && answer.status < 300) acknowledged.push(email);
        else if (answer.status === 503 && Number(answer.headers.get('retry-after')) > 0) {
          counts.refused += 1;
          await sleep(50); // a client honouring Retry-After would wait longer; keep the pressure on
        } else writeFailures.push(`${email}: ${answer.status} ${answer.headers.get('retry-after')} ${JSON.stringify(answer.body)}`);
      }
    });

    let movedInMs = 0;
    try {
      await sleep(500);
      const started = Date.now();
      const moved = await api1.request('POST', `/organizations/${org.id}/move`, { body: { database_server: 'pg-b' } });
      expect(moved.status, JSON.stringify(moved.body)).to.equal(202);
      await waitForStatuses(fe, [org.id], ['active'], 120000);
      movedInMs = Date.now() - started;
      await sleep(500); // some traffic on the target too
    } finally {
      running = false;
      await Promise.all([...readers, ...writers]);
      peaks = await sampler.stop();
      sampledForMs = Date.now() - samplingFrom;
    }
    process.stdout.write(
      `      move of 501 users: ${movedInMs} ms from POST to active; ${counts.reads} reads, ${counts.writes} writes ` +
        `(${acknowledged.length} acknowledged, ${counts.refused} answered 503 + Retry-After)\n`,
    );

    expect(readFailures).to.deep.equal([]);
    expect(writeFailures).to.deep.equal([]);
    const status = await api2.status(org.id);
    expect(status).to.include({ status: 'active', database_server: 'pg-b' });
    const after = await usersOn('pg-b', database);
    const byId = new Map(after.map((u) => [u.id, u]));
    for (const user of before) expect(byId.get(user.id), user.email).to.deep.equal(user);
    const emails = new Set(after.map((u) => u.email));
    expect(acknowledged.filter((email) => !emails.has(email))).to.deep.equal([]);
    expect(after).to.have.length(before.length + acknowledged.length);
    // The source is dropped right after the switch.
    await waitUntil(async () => !(await databaseExists('default', database)), 15000, 'the source database to be dropped');
    expect(await databaseExists('pg-b', database)).to.equal(true);
    expect(await databaseExists('pg-b', stagingNameFor(database))).to.equal(false);
    expect(await pgbouncerEntry(database)).to.equal(`${database} = host=127.0.0.1 port=5433 dbname=${database}`);
  });

  it('when tenant connections are sampled on each server throughout, then they never exceed the budgets', async () => {
    expect(peaks, 'the samples of the move under traffic').to.not.equal(undefined);
    const sampled = peaks as NonNullable<typeof peaks>;
    const maxDbConnections = await pgbouncerMaxDbConnections();
    process.stdout.write(
      `      ${sampled.samples} samples in ${sampledForMs} ms; peaks (API clients at PgBouncer / PgBouncer server connections / busiest database / direct): ` +
        `default ${sampled.default.clients}/${sampled.default.pooled}/${sampled.default.pooledPerDatabase}/${sampled.default.direct}, ` +
        `pg-b ${sampled['pg-b'].clients}/${sampled['pg-b'].pooled}/${sampled['pg-b'].pooledPerDatabase}/${sampled['pg-b'].direct}; ` +
        `budget ${BUDGET} per server × ${APIS} APIs, max_db_connections ${maxDbConnections}; direct sessions at their peak: ${JSON.stringify(sampled.default.directAtPeak)} ${JSON.stringify(sampled['pg-b'].directAtPeak)}\n`,
    );
    expect(sampled.samples, 'one sample per 100 ms').to.be.at.least(Math.floor(sampledForMs / 200));
    expect(sampled.default.clients + sampled['pg-b'].clients, 'the traffic went through PgBouncer').to.be.greaterThan(0);
    for (const name of Object.keys(SERVERS) as ServerName[]) {
      const peak = sampled[name];
      // Each API holds at most BUDGET connections per server, all to PgBouncer.
      expect(peak.clients, `${name}: API connections`).to.be.at.most(BUDGET * APIS);
      // In transaction pooling PgBouncer opens a server connection only for a client's transaction.
      expect(peak.pooled, `${name}: PgBouncer's server connections`).to.be.at.most(BUDGET * APIS);
      expect(peak.pooledPerDatabase, `${name}: PgBouncer's server connections of one database`).to.be.at.most(maxDbConnections);
      // The worker's own sessions of a move: pg_dump and a verification read on the source, pg_restore
      // and a verification read on the target; never more than two at once on one server.
      expect(peak.direct, `${name}: the worker's direct sessions`).to.be.at.most(2);
    }
  });

  it('when the worker is SIGKILLed in the middle of a move, then the move converges: the organization ends active on exactly one server with all its users', async function () {
    this.timeout(180000);
    const org = await activeOrganizationOnDefault('Killed');
    const database = dbName(org.id);
    await addUsers(org.id, 20000);
    // About 100 MB of incompressible text, so that pg_dump | pg_restore takes seconds.
    await query(
      withDatabase(DEFAULT_SERVER, database),
      `CREATE TABLE move_padding AS SELECT n, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) ||
         md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS filler FROM generate_series(1, 350000) n`,
    );
    const counts = async (server: ServerName) =>
      (
        await query<{ users: number; padding: number }>(
          withDatabase(SERVERS[server].url, database),
          'SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM move_padding)::int AS padding',
        )
      )[0];
    const before = await counts('default');

    const moved = await api1.request('POST', `/organizations/${org.id}/move`, { body: { database_server: 'pg-b' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(202);
    await waitUntil(async () => (await api2.status(org.id)).step === 'copy', 60000, 'the copy step', 20);
    // Either worker may hold the job: both go.
    await Promise.all(workers.map((w) => w.kill()));
    const killedAt = Date.now();
    const atKill = await api2.status(org.id);
    expect(atKill).to.include({ status: 'moving', step: 'copy' });

    // A new worker takes the stalled job again after the lock expires (WORKER_LOCK_DURATION_MS/WORKER_STALLED_INTERVAL_MS of isolatedServiceEnv).
    workers = [await startWorker(fe, {}, 'worker-3')];
    const final = await waitUntil(
      async () => {
        const status = await api2.status(org.id);
        return status.status === 'active' ? status : undefined;
      },
      150000,
      'the move to converge',
      100,
    );
    const convergedInMs = Date.now() - killedAt;
    const home = final.database_server as ServerName;
    const other: ServerName = home === 'default' ? 'pg-b' : 'default';
    await waitUntil(async () => !(await databaseExists(other, database)), 30000, `the copy on ${other} to be dropped`).catch(async (error) => {
      // What still holds the copy: its sessions, and the advisory locks taken on that server.
      const holders = await query(
        SERVERS[other].url,
        `SELECT pid, datname, application_name, state, backend_start, left(query, 80) AS query FROM pg_stat_activity
          WHERE datname = $1 OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')`,
        [database],
      );
      throw new Error(`${(error as Error).message}; sessions and advisory lock holders: ${JSON.stringify(holders)}`);
    });
    process.stdout.write(`      SIGKILL during copy: active on ${home} ${convergedInMs} ms after the kill (last_error: ${final.last_error ?? 'none'})\n`);

    expect(home).to.be.oneOf(['default', 'pg-b']);
    expect(await databaseExists(home, database)).to.equal(true);
    for (const server of Object.keys(SERVERS) as ServerName[]) expect(await databaseExists(server, stagingNameFor(database)), server).to.equal(false);
    const orphans = await api1.request('GET', '/admin/orphans');
    expect(orphans.status).to.equal(200);
    expect(orphans.body).to.deep.include({ items: [], unreachable_servers: [] });
    expect(await counts(home)).to.deep.equal(before);
    expect(await pgbouncerEntry(database)).to.equal(`${database} = host=127.0.0.1 port=${SERVERS[home].port} dbname=${database}`);
    for (const [i, api] of [api1, api2].entries()) {
      const written = await api.request('POST', `/organizations/${org.id}/users`, {
        headers: { authorization: `Bearer ${org.token}` },
        body: { email: `after-kill-${i}@scale.test`, password: 'live user password', role: 'member', is_active: true },
      });
      expect(written.status, JSON.stringify(written.body)).to.equal(201);
    }
    expect((await counts(home)).users).to.equal(before.users + 2);
  });
});
