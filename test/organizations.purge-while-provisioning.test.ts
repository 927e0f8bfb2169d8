import { join } from 'node:path';
import { runPgRestore } from '@orgms/common/data-safety/pg-dump';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { databaseExists, databaseOf } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

describe('Purging an organization whose provisioning had only created its database', () => {
  let stack: TestStack;

  before(async () => {
    // Without a template the database is created empty and gets its tables only at the migrate step.
    stack = await startStack({ env: { ORG_TEMPLATE_ENABLED: 'false' } });
  });
  after(() => stack?.stop());

  it('when it is purged between create_database and migrate, then the purge archives the empty database, verifies that archive and ends purged', async () => {
    let purgeAnswer: number | undefined;
    stack.worker = await stack.startWorker({
      beforeStep: async (step, orgId) => {
        if (step !== 'database_role' || purgeAnswer !== undefined) return;
        const res = await stack.request.delete(`/organizations/${orgId}?purge=true`).set('Authorization', `Bearer ${await stack.adminToken()}`);
        purgeAnswer = res.status;
      },
    });
    const org = await createOrganization(stack);

    await waitForStatus(stack, org.id, ['purged'], 20000);
    expect(purgeAnswer).to.equal(202);
    expect(await databaseExists(stack, databaseOf(stack, org.id))).to.equal(false);
    const archives = await queryControlDatabase<{ file_name: string; status: string }>(
      stack,
      `SELECT file_name, status FROM organization_dumps WHERE kind = 'archive' AND org_id = $1`,
      [org.id],
    );
    expect(archives.map((a) => a.status)).to.deep.equal(['verified']);
    const listed = await runPgRestore(['--list', join(stack.config.archives.dir, archives[0].file_name)]);
    expect(listed.code).to.equal(0);
    expect(listed.stdout).to.not.include('TABLE DATA');
  });
});
