import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TenantConnectionManager, type TenantRef } from '@orgms/api/tenancy/connection-manager';
import { ServiceUnavailableError } from '@orgms/common/errors';
import { databaseNameFor, markerFor, quoteIdent } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { createActiveOrganization } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

/** Clones `count` organization databases from one provisioned org (named and marked as ours), `parallel` at a time. */
async function cloneOrgDatabases(stack: TestStack, templateOrgId: string, count: number, parallel = 4): Promise<TenantRef[]> {
  const template = databaseNameFor(templateOrgId, stack.config.tenancy.databasePrefix);
  const refs = Array.from({ length: count }, () => {
    const id = randomUUID();
    return { id, databaseName: databaseNameFor(id, stack.config.tenancy.databasePrefix) };
  });
  const queue = [...refs];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      const client = new Client({ connectionString: stack.config.tenancy.serverUrl });
      await client.connect();
      try {
        for (let ref = queue.shift(); ref; ref = queue.shift()) {
          await client.query(`CREATE DATABASE ${quoteIdent(ref.databaseName)} TEMPLATE ${quoteIdent(template)}`);
          await client.query(`COMMENT ON DATABASE ${quoteIdent(ref.databaseName)} IS '${markerFor(ref.id)}'`);
        }
      } finally {
        await client.end();
      }
    }),
  );
  return refs;
}

/** Connections PostgreSQL reports on this suite's organization databases, by database. */
async function connectionsByDatabase(monitor: Client, stack: TestStack): Promise<Map<string, number>> {
  const { rows } = await monitor.query<{ datname: string; n: number }>(
    'SELECT datname, count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE $1 GROUP BY datname',
    [`${stack.config.tenancy.databasePrefix.replace(/_/g, '\\_')}%`],
  );
  return new Map(rows.map((r) => [r.datname, r.n]));
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

/** A closed connection's backend leaves pg_stat_activity a moment after the client has gone. */
async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await sleep(25);
    value = await read();
  }
  return value;
}

describe('Tenant connection manager', () => {
  let stack: TestStack;
  let monitor: Client;
  let templateOrgId: string;
  before(async () => {
    stack = await startStack({ worker: true });
    templateOrgId = (await createActiveOrganization(stack)).id;
    monitor = new Client({ connectionString: stack.config.tenancy.serverUrl });
    await monitor.connect();
  });
  after(async function () {
    this.timeout(120000); // dropping the ~200 cloned databases takes tens of seconds on a loaded machine
    await monitor?.end();
    await stack.stop();
  });

  const manager = (options: { budget: number; poolSize?: number; idleMs?: number; acquireTimeoutMs?: number }) =>
    TenantConnectionManager.forServer(
      { adminUrl: stack.config.tenancy.serverUrl, poolUrl: null, connectionBudget: options.budget },
      stack.config.tenancy.pools,
      stack.logger,
      { poolSize: 2, idleMs: 60000, acquireTimeoutMs: 10000, ...options },
    );

  it('when 200 organizations are driven through a budget of 20 connections, then no call fails and PostgreSQL never sees more than 20', async function () {
    this.timeout(120000);
    const started = Date.now();
    const orgs = await cloneOrgDatabases(stack, templateOrgId, 200);
    const cloneMs = Date.now() - started;
    const tenants = manager({ budget: 20, poolSize: 2, acquireTimeoutMs: 30000 });

    let sampling = true;
    let peak = 0;
    let peakReserved = 0;
    let samples = 0;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, total(await connectionsByDatabase(monitor, stack)));
        peakReserved = Math.max(peakReserved, tenants.stats().reservedConnections);
        samples += 1;
      }
    })();

    const driveStarted = Date.now();
    // Two rounds (the second in reverse order), 50 callers at once: far more orgs than pools fit.
    const work = [...orgs, ...[...orgs].reverse()];
    const errors: unknown[] = [];
    let done = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        for (let org = work.shift(); org; org = work.shift()) {
          try {
            // Two queries at once, so pools use both of their connections.
            const counts = await tenants.run(org, (db) => Promise.all([0, 1].map(() => db.query('SELECT count(*)::int AS n, pg_sleep(0.005) FROM users'))));
            expect(counts.map(([{ n }]) => n)).to.deep.equal([1, 1]);
            done += 1;
          } catch (error) {
            errors.push(error);
          }
        }
      }),
    );
    const driveMs = Date.now() - driveStarted;
    sampling = false;
    await sampler;
    await tenants.close();
    const after = await eventually(
      async () => total(await connectionsByDatabase(monitor, stack)),
      (n) => n === 0,
    );
    stack.logger.info('connection budget figures', { cloneMs, driveMs, peak, peakReserved, samples, done });
    console.log(`      200 orgs: cloned in ${cloneMs} ms, 400 calls in ${driveMs} ms, peak ${peak} connections (${samples} samples), after close ${after}`);

    expect(errors, String(errors[0])).to.deep.equal([]);
    expect(done).to.equal(400);
    expect(peak).to.be.at.most(20);
    expect(peak, 'the budget was actually exercised').to.be.at.least(16);
    expect(peakReserved).to.be.at.most(20);
    expect(after).to.equal(0);
  });

  it('when every pool is busy, then a caller waits for room, and gets a 503 error once its bounded wait is over', async () => {
    const [a, b] = await cloneOrgDatabases(stack, templateOrgId, 2, 2);
    const patient = manager({ budget: 2, poolSize: 2, acquireTimeoutMs: 5000 });
    const holdA = patient.run(a, (db) => db.query('SELECT pg_sleep(0.5)'));
    await sleep(50);
    const waited = Date.now();
    await patient.run(b, (db) => db.query('SELECT 1'));
    expect(Date.now() - waited, 'B waited for A to finish').to.be.at.least(300);
    await holdA;
    await patient.close();

    const impatient = manager({ budget: 2, poolSize: 2, acquireTimeoutMs: 100 });
    const holdAgain = impatient.run(a, (db) => db.query('SELECT pg_sleep(0.5)'));
    await sleep(50);
    let refused: unknown;
    await impatient
      .run(b, (db) => db.query('SELECT 1'))
      .catch((error) => {
        refused = error;
      });
    expect(refused).to.be.instanceOf(ServiceUnavailableError);
    await holdAgain;
    await impatient.close();
  });

  it('when the budget is full, then the least recently used idle pool is the one destroyed', async () => {
    const [a, b, c] = await cloneOrgDatabases(stack, templateOrgId, 3, 3);
    const tenants = manager({ budget: 2, poolSize: 1 });
    for (const org of [a, b, a, c]) await tenants.run(org, (db) => db.query('SELECT 1'));
    const open = await eventually(
      () => connectionsByDatabase(monitor, stack),
      (counts) => !counts.has(b.databaseName),
    );
    expect([open.get(a.databaseName), open.get(b.databaseName), open.get(c.databaseName)]).to.deep.equal([1, undefined, 1]);
    expect(tenants.stats()).to.include({ pools: 2, reservedConnections: 2, budget: 2 });
    await tenants.close();
  });

  it('when a pool stays idle, then it is destroyed after the idle time; evict() closes one at once after running work', async () => {
    const [a, b] = await cloneOrgDatabases(stack, templateOrgId, 2, 2);
    const tenants = manager({ budget: 4, poolSize: 1, idleMs: 300 });
    await tenants.run(a, (db) => db.query('SELECT 1'));
    await sleep(700);
    expect(tenants.stats()).to.include({ pools: 0, reservedConnections: 0, openConnections: 0 });
    const gone = (name: string) =>
      eventually(
        async () => (await connectionsByDatabase(monitor, stack)).get(name),
        (n) => n === undefined,
      );
    expect(await gone(a.databaseName)).to.equal(undefined);

    const running = tenants.run(b, (db) => db.query('SELECT pg_sleep(0.2) AS slept'));
    await sleep(50);
    await tenants.evict(b.id);
    expect(await running, 'work that was running finishes first').to.have.length(1);
    expect(tenants.stats().pools).to.equal(0);
    expect(await gone(b.databaseName)).to.equal(undefined);
    await tenants.evict(b.id); // nothing cached: a no-op
    await tenants.close();
  });

  it('when an organization database cannot be reached, then the call fails, its budget is returned and the next call retries', async () => {
    const missing = { id: randomUUID(), databaseName: databaseNameFor(randomUUID(), stack.config.tenancy.databasePrefix) };
    const tenants = manager({ budget: 2, poolSize: 2 });
    for (let i = 0; i < 2; i++) {
      const error = await tenants.run(missing, (db) => db.query('SELECT 1')).catch((e: Error) => e);
      expect(String(error)).to.match(/does not exist/);
    }
    await sleep(20);
    expect(tenants.stats()).to.include({ pools: 0, reservedConnections: 0 });
    await tenants.close();
  });
});
