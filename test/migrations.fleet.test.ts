import { latestTenantMigration } from '@orgms/migrations';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { previousTenantMigration as previous, rollBackTenantMigration, waitForMigrationRun } from './support/fleet-migrations';
import { databaseOf, withClient } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Fleet migrations: POST /migrations/runs', () => {
  let stack: TestStack;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  before(async () => {
    stack = await startStack({ worker: true, env: { MIGRATION_CONCURRENCY: '4', MIGRATION_ATTEMPTS: '2', MIGRATION_BACKOFF_MS: '60' } });
  });
  after(() => stack.stop());

  it('when 20 organizations are behind and one database is broken, then the run reports 19 succeeded and 1 failed with its error', async function () {
    this.timeout(120000);
    const orgs = [];
    for (let i = 0; i < 20; i++) orgs.push(await createOrganization(stack));
    for (const org of orgs) await waitForStatus(stack, org.id, ['active'], 30000);
    const broken = orgs[7];
    for (const org of orgs) await rollBackTenantMigration(stack, org.id, org === broken ? 'broken' : 'behind');

    const started = await stack.request
      .post('/migrations/runs')
      .set('Authorization', await auth())
      .expect(202);
    expect(started.headers.location).to.equal(`/migrations/runs/${started.body.id}`);
    expect(started.body).to.include({ target_version: latestTenantMigration });
    const run = await waitForMigrationRun(stack, started.headers.location);
    expect(run).to.include({ total: 20, succeeded: 19, failed: 1, skipped: 0, pending: 0, progress: 1 });
    expect(run.template).to.match(/^template (current|created|migrated)$/);
    expect(run.failures).to.have.length(1);
    const [failure] = run.failures as { org_id: string; error: string }[];
    expect(failure.org_id).to.equal(broken.id);
    expect(failure.error).to.match(/^migrate: unexpected error \(SQLSTATE 42701\)/);

    const versions = await queryControlDatabase(stack, 'SELECT id, schema_version FROM organizations WHERE id = ANY($1)', [orgs.map((o) => o.id)]);
    for (const row of versions) expect(row.schema_version).to.equal(row.id === broken.id ? previous : latestTenantMigration);
    const columns = await withClient(
      stack,
      (c) => c.query(`SELECT 1 FROM information_schema.columns WHERE column_name = 'last_login_at'`),
      databaseOf(stack, orgs[0].id),
    );
    expect(columns.rowCount).to.equal(1);

    // A second run skips the current ones without touching their databases; the broken one fails again.
    const again = await stack.request
      .post('/migrations/runs')
      .set('Authorization', await auth())
      .expect(202);
    const second = await waitForMigrationRun(stack, again.headers.location);
    expect(second).to.include({ total: 20, succeeded: 0, failed: 1, skipped: 19 });
    const list = await stack.request
      .get('/migrations/runs')
      .set('Authorization', await auth())
      .expect(200);
    expect(list.body.items.map((r: { id: string }) => r.id)).to.include.members([started.body.id, again.body.id]);
  });

  it('when MIGRATION_BACKOFF_MS is set, then an organization of a run is retried after it, and provisioning keeps PROVISION_BACKOFF_MS', () => {
    expect(stack.api.queues.migrations.defaultJobOptions).to.deep.include({ attempts: 2, backoff: { type: 'exponential', delay: 60 } });
    expect(stack.api.queues.provisioning.defaultJobOptions.backoff).to.deep.equal({ type: 'exponential', delay: 50 });
  });

  it('when the run id is unknown or malformed, then it answers 404 or 400 problem+json', async () => {
    await stack.request
      .get('/migrations/runs/9f1c2d3e-0000-4000-8000-000000000000')
      .set('Authorization', await auth())
      .expect(404);
    const bad = await stack.request
      .get('/migrations/runs/nope')
      .set('Authorization', await auth())
      .expect(400);
    expect(bad.type).to.equal('application/problem+json');
  });

  it('when there are more runs than one page, then next_cursor leads through all of them without repeats, and the last page has none', async () => {
    for (let i = 0; i < 3; i++) await stack.api.stores.trackedRuns.create({ kind: 'migration', targetVersion: latestTenantMigration }, `paging-${i}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string | number> = cursor ? { limit: 2, cursor } : { limit: 2 };
      const page: { body: { items: { id: string }[]; next_cursor: string | null } } = await stack.request
        .get('/migrations/runs')
        .query(query)
        .set('Authorization', await auth())
        .expect(200);
      expect(page.body.items.length).to.be.at.most(2);
      seen.push(...page.body.items.map((r) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const n = (await stack.api.stores.trackedRuns.list('migration', { limit: 1000 })).items.length;
    expect(seen).to.have.lengthOf(n);
    expect(new Set(seen).size).to.equal(n);
  });
});
