import { markerFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Reconciling organizations whose job was lost', () => {
  let stack: TestStack;
  before(async () => {
    // The API's Redis is unreachable (nothing listens on port 1); the worker's is real.
    stack = await startStack({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(() => stack.stop());

  it('when Redis is down at creation, then /ready says 503, POST still answers 202, and the reconciler provisions the org exactly once', async () => {
    const ready = await stack.request.get('/ready').expect(503);
    expect(ready.body.checks).to.deep.equal({ postgres: 'ok', redis: 'unavailable' });

    const org = await createOrganization(stack);
    const pending = await waitForStatus(stack, org.id, ['pending']);
    expect(pending.status).to.equal('pending');

    await stack.startWorker({}, { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', RECONCILE_INTERVAL_MS: '200', RECONCILE_STUCK_AFTER_MS: '0' });
    const status = await waitForStatus(stack, org.id, ['active', 'failed']);
    expect(status).to.include({ status: 'active', attempts: 1 });

    // Exactly once: one database for the org, and the reconciler's later passes change nothing.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const client = new Client({ connectionString: stack.config.tenancy.serverUrl });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1`, [markerFor(org.id)]);
      expect(rows).to.have.length(1);
    } finally {
      await client.end();
    }
    const [{ count }] = await queryControlDatabase(stack, `SELECT count(*)::int AS count FROM organization_events WHERE org_id = $1 AND to_status = 'active'`, [
      org.id,
    ]);
    expect(count).to.equal(1);
    const [{ request_id: requestId }] = await queryControlDatabase(
      stack,
      `SELECT request_id FROM organization_events WHERE org_id = $1 AND to_status = 'active'`,
      [org.id],
    );
    const [{ request_id: original }] = await queryControlDatabase(stack, `SELECT request_id FROM organization_events WHERE org_id = $1 ORDER BY id LIMIT 1`, [
      org.id,
    ]);
    expect(requestId, 'the job keeps the request id of the POST').to.equal(original);
  });
});

describe('A pending organization whose job never reached Redis, when a worker starts', () => {
  let stack: TestStack;
  before(async () => {
    // The API's Redis is unreachable (nothing listens on port 1), so the job of a POST never reaches Redis.
    stack = await startStack({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  });
  after(() => stack.stop());

  it('when a worker starts, then the organization is found and enqueued at once, not after RECONCILE_STUCK_AFTER_MS, and is active within 5 s', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['pending']);

    const started = Date.now();
    // The sweeps' own periods are far away: only what a worker does when it starts can find it.
    await stack.startWorker(
      {},
      { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', RECONCILE_INTERVAL_MS: '600000', RECONCILE_STUCK_AFTER_MS: '600000' },
    );
    const status = await waitForStatus(stack, org.id, ['active', 'failed'], 5000);
    expect(status).to.include({ status: 'active', attempts: 1 });
    expect(Date.now() - started).to.be.below(5000);
  });
});
