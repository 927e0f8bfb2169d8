import { expect } from 'chai';
import { Client } from 'pg';
import { startApi, startWorker } from '../../harness/built-service';
import { controlQuery, isolatedServiceEnv, type ServiceEnv } from '../../harness/service-env';
import { waitUntil } from '../../harness/wait';
import { ApiClient, endFaultTest, orgDatabases, waitForStatuses } from '../support/service-processes';

const PG_SERVER = 'postgres://postgres@127.0.0.1:5432';

/**
 * A worker SIGKILLed in the middle of claiming a spare database: the claim is recorded in the
 * control database, and the rename of the spare into the organization's name is under way (held:
 * PostgreSQL waits up to 5 s for the sessions this spec keeps open on every spare before it
 * renames a database, so the worker is certainly inside the claim's transaction when it dies).
 */
describe('Fault: a worker killed with SIGKILL in the middle of claiming a spare database', function () {
  this.timeout(60000);
  let fe: ServiceEnv | undefined;
  const sessions: Client[] = [];

  afterEach(async function () {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await endFaultTest(this.currentTest, fe);
  });

  it('when the worker dies after the claim was recorded and before the rename committed, then a new worker takes up the claim: the organization active on the spare, one database, no spare lost or doubled', async () => {
    fe = await isolatedServiceEnv({ SPARE_DATABASES: '2' });
    const env = fe;
    await startApi(env);
    const first = await startWorker(env, {}, 'worker-1');
    const ready = () => controlQuery<{ id: string }>(env, `SELECT id FROM spare_databases WHERE status = 'ready' ORDER BY created_at`);
    await waitUntil(async () => (await ready()).length === 2, 20000, 'two spares ready');
    const spareNames = (await orgDatabases(env)).filter((d) => d.marker?.startsWith('orgms:spare:')).map((d) => d.datname);
    expect(spareNames).to.have.length(2);
    for (const name of spareNames) {
      const session = new Client({ connectionString: `${PG_SERVER}/${name}` });
      session.on('error', () => undefined);
      await session.connect();
      sessions.push(session);
    }

    const answer = await new ApiClient(env.baseUrl).createOrganization(`Spare Crash ${env.id}`);
    expect(answer.status, JSON.stringify(answer.body)).to.equal(202);
    const orgId = answer.body.id as string;
    await waitUntil(
      async () => (await controlQuery(env, `SELECT 1 FROM spare_databases WHERE status = 'claimed' AND claimed_by = $1`, [orgId])).length === 1,
      10000,
      'the claim to be recorded',
    );
    first.signal('SIGKILL');
    expect((await first.exited).signal).to.equal('SIGKILL');
    await Promise.all(sessions.splice(0).map((s) => s.end()));

    const second = await startWorker(env, {}, 'worker-2');
    await waitForStatuses(env, [orgId], ['active', 'failed'], 30000);
    const [org] = await controlQuery<{ status: string; attempts: number }>(env, 'SELECT status, attempts FROM organizations WHERE id = $1', [orgId]);
    expect(org).to.deep.equal({ status: 'active', attempts: 2 });
    const details = (await controlQuery<{ detail: string | null }>(env, 'SELECT detail FROM organization_events WHERE org_id = $1', [orgId])).map(
      (e) => e.detail,
    );
    expect(details, 'the second attempt took up the claim').to.include('database claimed on default');

    // The refill forgets the claim and brings the spares back to two; every database is the organization's, the template or a ready spare.
    await waitUntil(async () => (await ready()).length === 2, 20000, 'the spares refilled');
    expect(await controlQuery(env, 'SELECT 1 FROM spare_databases WHERE claimed_by = $1', [orgId]), 'the claim is forgotten once renamed').to.deep.equal([]);
    const readyIds = new Set((await ready()).map((r) => r.id));
    const databases = await orgDatabases(env);
    const orgDatabase = `${env.orgPrefix}${orgId.replace(/-/g, '')}`;
    expect(databases.filter((d) => d.datname === orgDatabase).map((d) => d.marker)).to.deep.equal([`orgms:organization:${orgId}`]);
    for (const database of databases) {
      if (database.datname === orgDatabase || database.datname === `${env.orgPrefix}template`) continue;
      expect(readyIds.has(database.marker?.replace('orgms:spare:', '') ?? ''), `${database.datname} (${database.marker}) is a ready spare`).to.equal(true);
    }
    expect(second.count((l) => l.message === 'organization active')).to.equal(1);
  });
});
