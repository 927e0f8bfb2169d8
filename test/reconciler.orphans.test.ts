import { randomUUID } from 'node:crypto';
import { SWEEPS } from '@orgms/common/queues/registry';
import { databaseNameFor, markerFor, quoteIdent } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { databaseExists, databaseOf, withClient } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Sweeps: stuck deletions and orphans', () => {
  let stack: TestStack;
  const auth = async () => `Bearer ${await stack.adminToken()}`;

  before(async () => {
    stack = await startStack({ worker: true, env: { RECONCILE_STUCK_AFTER_MS: '0' } });
  });
  after(() => stack.stop());

  it('when orphans exist both ways, then the orphans sweep and GET /admin/orphans report each kind and drop nothing', async () => {
    // 1. A database carrying our marker for an organization the control plane does not know.
    const ghostId = randomUUID();
    const ghost = databaseNameFor(ghostId, stack.config.tenancy.databasePrefix);
    await withClient(stack, async (c) => {
      await c.query(`CREATE DATABASE ${quoteIdent(ghost)}`);
      await c.query(`COMMENT ON DATABASE ${quoteIdent(ghost)} IS '${markerFor(ghostId)}'`);
    });
    // 2. An active organization whose database vanished behind our back.
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    await withClient(stack, (c) => c.query(`DROP DATABASE ${quoteIdent(databaseOf(stack, org.id))} WITH (FORCE)`));
    // 3. A healthy organization, which must not be reported.
    const healthy = await createOrganization(stack);
    await waitForStatus(stack, healthy.id, ['active']);

    const report = await stack.worker?.sweeps[SWEEPS.orphans].run();
    const simplified = report?.orphans.map((o) => ({ kind: o.kind, orgId: o.orgId })) ?? [];
    expect(simplified).to.have.deep.members([
      { kind: 'database_without_organization', orgId: ghostId },
      { kind: 'organization_without_database', orgId: org.id },
    ]);

    const res = await stack.request
      .get('/admin/orphans')
      .set('Authorization', await auth())
      .expect(200);
    expect(res.body.items.map((o: { kind: string; org_id: string }) => `${o.kind}:${o.org_id}`)).to.have.members([
      `database_without_organization:${ghostId}`,
      `organization_without_database:${org.id}`,
    ]);
    expect(await databaseExists(stack, ghost), 'the orphans sweep never drops a database on its own').to.equal(true);
    const [{ status }] = await queryControlDatabase(stack, 'SELECT status FROM organizations WHERE id = $1', [org.id]);
    expect(status).to.equal('active');
  });

  it('when a purge is stuck in purging without a job, then the stuck-organizations sweep enqueues it again and it ends purged', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    // As if the API committed `purging` while Redis was down: no purge job exists.
    await stack.api.stores.organizations.markDeleted(org.id, { requestId: 'test', graceMs: 0 });
    await stack.api.stores.organizations.transition(org.id, 'purging', { step: 'archive' });
    const report = await stack.worker?.sweeps[SWEEPS.stuckOrganizations].run();
    expect(report?.enqueued).to.include(org.id);
    await waitForStatus(stack, org.id, ['purged']);
    expect(await databaseExists(stack, databaseOf(stack, org.id))).to.equal(false);
  });

  it('when a purged organization left its database behind, then it is reported as an orphan', async () => {
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    // Mark it purged without dropping, as a bug or a manual edit would.
    await queryControlDatabase(stack, `UPDATE organizations SET status = 'purged' WHERE id = $1`, [org.id]);
    const orphans = (await stack.worker?.sweeps[SWEEPS.orphans].run())?.orphans ?? [];
    expect(orphans.filter((o) => o.orgId === org.id).map((o) => o.kind)).to.deep.equal(['database_without_organization']);
  });
});
