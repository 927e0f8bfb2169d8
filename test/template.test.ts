import { randomUUID } from 'node:crypto';
import { withDatabase } from '@orgms/common/database/database-urls';
import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import { databaseNameFor, templateMarkerFor, templateNameFor } from '@orgms/common/tenancy/database-names';
import { latestTenantMigration } from '@orgms/migrations';
import { DatabaseAdmin } from '@orgms/worker/tenancy/database-admin';
import { currentTemplate, refreshTemplate } from '@orgms/worker/tenancy/template-database';
import { expect } from 'chai';
import type { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { withClient } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** Everything about a database's schema that matters, without oids, timestamps or names of the database itself. */
async function schemaDump(client: Client): Promise<unknown> {
  const queries = {
    columns: `SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default, character_maximum_length
                FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    indexes: `SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`,
    constraints: `SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS def
                    FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`,
    sequences: `SELECT sequence_name, data_type FROM information_schema.sequences WHERE sequence_schema = 'public' ORDER BY 1`,
    migrations: `SELECT timestamp, name FROM tenant_migrations ORDER BY id`,
    extensions: `SELECT extname FROM pg_extension ORDER BY 1`,
  };
  const dump: Record<string, unknown[]> = {};
  for (const [key, sql] of Object.entries(queries)) dump[key] = (await client.query(sql)).rows;
  return dump;
}

async function migrate(stack: TestStack, database: string): Promise<void> {
  const ds = await createTenantDataSource(withDatabase(stack.config.tenancy.serverUrl, database), 1).initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

describe('Template fast path', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.stop());

  it('when one database is cloned from the template and one is built empty plus migrations, then their schemas are identical', async () => {
    expect(await refreshTemplate(stack.config.tenancy.serverUrl, stack.config.tenancy.databasePrefix, stack.logger)).to.equal('created');
    expect(await refreshTemplate(stack.config.tenancy.serverUrl, stack.config.tenancy.databasePrefix, stack.logger), 'a second refresh is a no-op').to.equal(
      'current',
    );
    const [fastId, slowId] = [randomUUID(), randomUUID()];
    const [fast, slow] = [databaseNameFor(fastId, stack.config.tenancy.databasePrefix), databaseNameFor(slowId, stack.config.tenancy.databasePrefix)];
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      expect(await admin.ensureDatabase(fastId, fast, { template: currentTemplate(stack.config.tenancy.databasePrefix) })).to.equal('cloned');
      expect(await admin.ensureDatabase(slowId, slow)).to.equal('created');
      expect(await admin.markerOf(fast), 'a clone carries its own marker, not the template’s').to.equal(`orgms:organization:${fastId}`);
    } finally {
      await admin.close();
    }
    await migrate(stack, fast); // a no-op on the clone
    await migrate(stack, slow);
    const [fastDump, slowDump] = [await withClient(stack, schemaDump, fast), await withClient(stack, schemaDump, slow)];
    expect(fastDump).to.deep.equal(slowDump);
    expect((fastDump as { migrations: { name: string }[] }).migrations.at(-1)?.name).to.equal(latestTenantMigration);
    const sessions = await withClient(stack, (c) =>
      c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [templateNameFor(stack.config.tenancy.databasePrefix)]),
    );
    expect(sessions.rows[0].n, 'nothing stays connected to the template').to.equal(0);
  });

  it('when the template is outdated or missing, then creation falls back to an empty database and still succeeds', async () => {
    const template = templateNameFor(stack.config.tenancy.databasePrefix);
    const reasons: string[] = [];
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      await admin.setMarker(template, templateMarkerFor('CreateUsers1732200000000'));
      const id = randomUUID();
      const outcome = await admin.ensureDatabase(id, databaseNameFor(id, stack.config.tenancy.databasePrefix), {
        template: currentTemplate(stack.config.tenancy.databasePrefix),
        onTemplateFallback: (reason) => reasons.push(reason),
      });
      expect(outcome).to.equal('created');
      expect(reasons[0]).to.match(/template is at orgms:template:CreateUsers/);
    } finally {
      await admin.close();
    }
    // An outdated template is migrated in place by the next refresh.
    expect(await refreshTemplate(stack.config.tenancy.serverUrl, stack.config.tenancy.databasePrefix, stack.logger)).to.equal('migrated');
  });

  it('when the worker provisions with the template on, then the org database is cloned; with ORG_TEMPLATE_ENABLED=false it is created empty; both end active', async () => {
    const fastWorker = await stack.startWorker();
    await fastWorker.templateReady;
    const fast = await createOrganization(stack);
    await waitForStatus(stack, fast.id, ['active']);
    await fastWorker.stop();
    const slowWorker = await stack.startWorker({}, { ORG_TEMPLATE_ENABLED: 'false' });
    const slow = await createOrganization(stack);
    await waitForStatus(stack, slow.id, ['active']);
    await slowWorker.stop();
    const details = async (id: string) =>
      (
        await queryControlDatabase<{ detail: string }>(stack, `SELECT detail FROM organization_events WHERE org_id = $1 AND detail LIKE 'database %'`, [id])
      ).map((r) => r.detail);
    expect(await details(fast.id)).to.deep.equal(['database cloned on default']);
    expect(await details(slow.id)).to.deep.equal(['database created on default']);
  });
});
