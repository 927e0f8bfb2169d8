import { setTimeout as sleep } from 'node:timers/promises';
import { type ApiRuntime, startApiRuntime } from '@orgms/api/api-runtime';
import type { StatusMessage } from '@orgms/api/events/organization-events-hub';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { jobIds } from '@orgms/common/queues/registry';
import { latestTenantMigration, tenantMigrations } from '@orgms/migrations';
import { expect } from 'chai';
import { Cluster } from 'ioredis';
import { contractCheckedRequest } from '../support/contract';
import { queryControlDatabase } from '../support/control-database';
import { databaseOf, withClient } from '../support/org-databases';
import { createOrganization, waitForStatus } from '../support/organizations';
import { startStack, type TestStack } from '../support/stack';

/** The three masters that scripts/fleet/ensure-fleet-services.sh starts. */
const REDIS_CLUSTER_URL = 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003';

/** Every key of the suite's deployment, read on each master of the cluster: master → keys. */
async function keysByMaster(stack: TestStack): Promise<Map<string, string[]>> {
  const cluster = createRedis(stack.config.queue, 'worker');
  try {
    expect(cluster).to.be.instanceOf(Cluster);
    const found = new Map<string, string[]>();
    await (cluster as Cluster).ping();
    for (const node of (cluster as Cluster).nodes('master')) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `*orgms-test-${stack.id}*`, 'COUNT', 1000);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      found.set(`${node.options.host}:${node.options.port}`, keys);
    }
    return found;
  } finally {
    await closeRedis(cluster);
  }
}

describe('Redis Cluster (REDIS_URL=redis+cluster://…): queues, flows, counters and pub/sub on three masters', () => {
  let stack: TestStack;
  let secondApi: ApiRuntime | undefined;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  before(async () => {
    stack = await startStack({
      worker: true,
      env: {
        REDIS_URL: REDIS_CLUSTER_URL,
        MIGRATION_CONCURRENCY: '4',
        LOGIN_RATE_LIMIT_PER_ACCOUNT: '3',
        LOGIN_RATE_LIMIT_WINDOW_MS: '60000',
      },
    });
    await stack.adminToken(); // before any login of the suite is throttled
  });
  after(async () => {
    await secondApi?.stop();
    await stack?.stop();
  });

  it('when the service starts on a cluster URL, then its connection is an ioredis Cluster and its queue prefix is the hash tag {QUEUE_PREFIX}', async () => {
    expect(stack.config.queue.prefix).to.equal(`{orgms-test-${stack.id}}`);
    const connection = createRedis(stack.config.queue, 'api');
    try {
      expect(connection).to.be.instanceOf(Cluster);
    } finally {
      await closeRedis(connection);
    }
    // /ready pings Redis through the runtime's own connection.
    const ready = await stack.request.get('/ready').expect(200);
    expect(ready.body.checks).to.deep.include({ redis: 'ok' });
  });

  it('when an organization is created through the API, then the worker provisions it through BullMQ on the cluster and it becomes active', async () => {
    const org = await createOrganization(stack);
    const status = await waitForStatus(stack, org.id, ['active'], 60000);
    expect(status.status).to.equal('active');
    // The organization is active before its job returns: the job completes just after.
    const job = await stack.api.queues.provisioning.getJob(jobIds.provision(org.id));
    const deadline = Date.now() + 5000;
    while ((await job?.getState()) !== 'completed' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await job?.getState()).to.equal('completed');
  });

  it('when a fleet migration runs on the cluster, then its parent job and its children (batches of organizations, a BullMQ flow) complete', async function () {
    this.timeout(120000);
    const previous = tenantMigrations[tenantMigrations.length - 2].name;
    const orgs = [];
    for (let i = 0; i < 4; i++) orgs.push(await createOrganization(stack));
    for (const org of orgs) await waitForStatus(stack, org.id, ['active'], 60000);
    // Put each database back one migration, as if created before the latest release.
    for (const org of orgs) {
      await withClient(
        stack,
        async (c) => {
          await c.query('ALTER TABLE users DROP COLUMN last_login_at');
          await c.query('DELETE FROM tenant_migrations WHERE name = $1', [latestTenantMigration]);
        },
        databaseOf(stack, org.id),
      );
      await queryControlDatabase(stack, 'UPDATE organizations SET schema_version = $2 WHERE id = $1', [org.id, previous]);
    }

    const started = await stack.request
      .post('/migrations/runs')
      .set('Authorization', await auth())
      .expect(202);
    let run: Record<string, unknown> = {};
    const deadline = Date.now() + 90000;
    while (run.status !== 'completed') {
      if (Date.now() > deadline) throw new Error(`run did not complete: ${JSON.stringify(run)}`);
      await sleep(200);
      run = (
        await stack.request
          .get(started.headers.location)
          .set('Authorization', await auth())
          .expect(200)
      ).body;
    }
    // The other organizations of the suite are current already: skipped, still children of the run.
    expect(run).to.include({ failed: 0, pending: 0, progress: 1 });
    expect(run.succeeded).to.equal(orgs.length);
    const versions = await queryControlDatabase<{ schema_version: string }>(stack, 'SELECT schema_version FROM organizations WHERE id = ANY($1)', [
      orgs.map((o) => o.id),
    ]);
    expect(versions.map((v) => v.schema_version)).to.deep.equal(orgs.map(() => latestTenantMigration));
  });

  it('when the queue keys are read on the masters, then every one carries the hash-tagged prefix and all of them lie on one master (one slot)', async () => {
    const byMaster = await keysByMaster(stack);
    const nonEmpty = [...byMaster].filter(([, keys]) => keys.length > 0);
    expect(nonEmpty, JSON.stringify([...byMaster.keys()])).to.have.length(1);
    const [, keys] = nonEmpty[0];
    for (const key of keys) expect(key.startsWith(`{orgms-test-${stack.id}}:`), key).to.equal(true);
    expect(keys.some((k) => k.includes(':provisioning:'))).to.equal(true);
    expect(keys.some((k) => k.includes(':migrations:'))).to.equal(true);
  });

  it('when logins fail on two API runtimes, then both count against one account through the cluster, and the counters sit under the deployment prefix', async () => {
    secondApi = startApiRuntime(stack.config, stack.logger);
    await secondApi.ready;
    const other = contractCheckedRequest(secondApi.app);
    const wrong = { email: 'nobody-on-the-cluster@platform.test', password: 'wrong password' };
    await stack.request.post('/auth/login').send(wrong).expect(401);
    await other.post('/auth/login').send(wrong).expect(401);
    await stack.request.post('/auth/login').send(wrong).expect(401);
    const refused = await other.post('/auth/login').send(wrong).expect(429);
    expect(Number(refused.headers['retry-after'])).to.be.within(1, 60);
    await stack.request.post('/auth/login').send(wrong).expect(429);

    const keys = [...(await keysByMaster(stack)).values()].flat();
    expect(keys.some((k) => k.startsWith(`{orgms-test-${stack.id}}:rl:login-account:`))).to.equal(true);
    expect(keys.some((k) => k.startsWith(`{orgms-test-${stack.id}}:rl:login-ip:`))).to.equal(true);
  });
});

describe('Redis Cluster: status long-polls wake through pub/sub', () => {
  let stack: TestStack;
  let secondApi: ApiRuntime | undefined;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  // No worker at first: the organization stays `pending` until the test starts one.
  before(async () => {
    stack = await startStack({ env: { REDIS_URL: REDIS_CLUSTER_URL } });
  });
  after(async () => {
    await secondApi?.stop();
    await stack?.stop();
  });

  it('when one API runtime long-polls (Prefer: wait=5) a pending organization and the worker provisions it, then the long-poll wakes with the new status, told by a message over the cluster', async () => {
    // The organization is created on a second API runtime; the first one long-polls it.
    secondApi = startApiRuntime(stack.config, stack.logger);
    await secondApi.ready;
    const token = await auth();
    const created = await contractCheckedRequest(secondApi.app)
      .post('/organizations')
      .set('Authorization', token)
      .send({ organization_name: `Cluster pub-sub ${stack.id}`, email: 'owner@example.test', password: 'correct horse battery' })
      .expect(202);
    const orgId = created.body.id as string;

    const heardOnFirst: StatusMessage[] = [];
    const heardOnSecond: StatusMessage[] = [];
    const unsubscribeFirst = stack.api.services.events.subscribe(orgId, (m) => heardOnFirst.push(m));
    const unsubscribeSecond = secondApi.services.events.subscribe(orgId, (m) => heardOnSecond.push(m));
    try {
      const started = Date.now();
      const poll = stack.request.get(`/organizations/${orgId}/status`).set('Authorization', token).set('Prefer', 'wait=5');
      setTimeout(() => void stack.startWorker(), 500);
      const res = await poll.expect(200);
      const elapsed = Date.now() - started;
      expect(res.headers['preference-applied']).to.equal('wait=5');
      expect(res.body.status).to.not.equal('pending');
      expect(elapsed).to.be.within(400, 4900);

      await waitForStatus(stack, orgId, ['active'], 30000);
      // Both runtimes hear the worker's messages over the cluster's pub/sub (not only the re-reads);
      // a message is published after its commit, so it may come just after the status reads active.
      const heardActive = (heard: StatusMessage[]) => heard.some((m) => m.status === 'active');
      const deadline = Date.now() + 5000;
      while (!(heardActive(heardOnFirst) && heardActive(heardOnSecond)) && Date.now() < deadline) await sleep(50);
      expect(heardOnFirst.map((m) => m.status)).to.include('active');
      expect(heardOnSecond.map((m) => m.status)).to.include('active');
    } finally {
      unsubscribeFirst();
      unsubscribeSecond();
    }
  });
});
