import { JOBS, type MigrateTenantsJobData } from '@orgms/common/queues/registry';
import { latestTenantMigration } from '@orgms/migrations';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { previousTenantMigration as previous, rollBackTenantMigration, waitForMigrationRun } from './support/fleet-migrations';
import { databaseOf, withClient } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Fleet migrations in batches (MIGRATION_BATCH_SIZE)', () => {
  let stack: TestStack;
  /** Five active organizations, sorted by id: the order a run's batches are cut in. */
  let orgIds: string[];
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  before(async function () {
    this.timeout(120000);
    stack = await startStack({
      worker: true,
      env: { MIGRATION_CONCURRENCY: '1', MIGRATION_BATCH_SIZE: '3', MIGRATION_ATTEMPTS: '2', MIGRATION_BACKOFF_MS: '50' },
    });
    const orgs = [];
    for (let i = 0; i < 5; i++) orgs.push(await createOrganization(stack));
    for (const org of orgs) await waitForStatus(stack, org.id, ['active'], 30000);
    orgIds = orgs.map((o) => o.id).sort();
  });
  after(async function () {
    // Dropping the suite's databases is slow on a busy server.
    this.timeout(120000);
    await stack.stop();
  });

  /** How many times each organization's database recorded the latest migration (1 when applied once). */
  async function latestRecords(orgId: string): Promise<number> {
    const { rows } = await withClient(
      stack,
      (c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_migrations WHERE name = $1', [latestTenantMigration]),
      databaseOf(stack, orgId),
    );
    return rows[0].n;
  }

  it('when 5 organizations are behind in batches of 3 and one of the first batch is broken, then 2 jobs run, its batch-mates succeed and it alone is recorded failed, the batch completing', async function () {
    this.timeout(60000);
    const broken = orgIds[1];
    for (const orgId of orgIds) await rollBackTenantMigration(stack, orgId, orgId === broken ? 'broken' : 'behind');

    const started = await stack.request
      .post('/migrations/runs')
      .set('Authorization', await auth())
      .expect(202);
    const run = await waitForMigrationRun(stack, started.headers.location);
    expect(run).to.include({ total: 5, succeeded: 4, failed: 1, skipped: 0, pending: 0 });
    expect((run.failures as { org_id: string }[]).map((f) => f.org_id)).to.deep.equal([broken]);

    const jobs = (await stack.api.queues.migrations.getJobs(['completed', 'failed'])).filter(
      (job) => job.name === JOBS.migrateTenants && (job.data as MigrateTenantsJobData).runId === started.body.id,
    );
    expect(jobs.map((job) => (job.data as MigrateTenantsJobData).orgIds)).to.have.deep.members([orgIds.slice(0, 3), orgIds.slice(3)]);
    const first = jobs.find((job) => (job.data as MigrateTenantsJobData).orgIds.includes(broken));
    // Its first attempt failed for the broken one; the second retried only that one, recorded it failed and completed.
    expect(await first?.getState()).to.equal('completed');
    expect(first?.attemptsMade).to.equal(2);
    expect(first?.returnvalue).to.deep.equal({ succeeded: 0, skipped: 0, failed: 1, retrying: 0 });

    for (const orgId of orgIds) expect(await latestRecords(orgId), orgId).to.equal(orgId === broken ? 0 : 1);
    const versions = await queryControlDatabase(stack, 'SELECT id, schema_version FROM organizations WHERE id = ANY($1)', [orgIds]);
    for (const row of versions) expect(row.schema_version).to.equal(row.id === broken ? previous : latestTenantMigration);
  });

  it('when a batch runs again after a crash between migrating organizations and recording them, then it records them without applying anything twice, and a further run changes nothing', async function () {
    this.timeout(60000);
    const [crashed, alsoCrashed, behind] = [orgIds[0], orgIds[2], orgIds[3]];
    await rollBackTenantMigration(stack, crashed, 'databaseMigrated');
    await rollBackTenantMigration(stack, alsoCrashed, 'databaseMigrated');
    await rollBackTenantMigration(stack, behind, 'behind');
    const runs = stack.api.stores.trackedRuns;
    const runId = await runs.create({ kind: 'migration', targetVersion: latestTenantMigration }, 'batch-rerun-spec');
    const batch = [crashed, alsoCrashed, behind];
    await runs.plan(
      runId,
      batch.map((orgId) => ({ orgId, fromVersion: previous })),
    );

    const worker = stack.worker as NonNullable<typeof stack.worker>;
    expect(await worker.migrations.migrateBatch(runId, batch, false)).to.deep.equal({ succeeded: 3, skipped: 0, failed: 0, retrying: 0 });
    for (const orgId of batch) expect(await latestRecords(orgId), orgId).to.equal(1);
    const items = () => queryControlDatabase(stack, 'SELECT org_id, status, finished_at FROM tracked_run_items WHERE run_id = $1 ORDER BY org_id', [runId]);
    const recorded = await items();
    expect(recorded.map((i) => i.status)).to.deep.equal(['succeeded', 'succeeded', 'succeeded']);
    const versions = await queryControlDatabase(stack, 'SELECT schema_version FROM organizations WHERE id = ANY($1)', [batch]);
    expect(versions.map((v) => v.schema_version)).to.deep.equal([latestTenantMigration, latestTenantMigration, latestTenantMigration]);

    // A duplicate of the job (or its re-run after the records were written) finds nothing pending.
    expect(await worker.migrations.migrateBatch(runId, batch, false)).to.deep.equal({ succeeded: 0, skipped: 0, failed: 0, retrying: 0 });
    expect(await items()).to.deep.equal(recorded);
  });
});
