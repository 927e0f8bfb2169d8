import { SWEEPS } from '@orgms/common/queues/registry';
import { databaseNameFor, markerFor, spareMarkerFor, spareNameFor } from '@orgms/common/tenancy/database-names';
import { latestTenantMigration } from '@orgms/migrations';
import { DatabaseAdmin } from '@orgms/worker/tenancy/database-admin';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { databaseExists, withClient } from './support/org-databases';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

interface SpareRow {
  id: string;
  status: string;
  template_version: string;
  claimed_by: string | null;
}

const spareRows = (stack: TestStack) =>
  queryControlDatabase<SpareRow>(stack, 'SELECT id, status, template_version, claimed_by FROM spare_databases ORDER BY created_at');

const defaultServerId = async (stack: TestStack) =>
  (await queryControlDatabase<{ id: string }>(stack, `SELECT id FROM database_servers WHERE name = 'default'`))[0].id;

/** The spares' databases on the server, by name. */
const spareDatabases = (stack: TestStack) =>
  withClient(stack, async (c) => {
    const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1`, [
      `${stack.config.tenancy.databasePrefix.replace(/_/g, '\\_')}spare\\_%`,
    ]);
    return rows.map((r) => r.datname);
  });

async function eventDetails(stack: TestStack, orgId: string): Promise<string[]> {
  const rows = await queryControlDatabase<{ detail: string | null }>(stack, `SELECT detail FROM organization_events WHERE org_id = $1 ORDER BY id`, [orgId]);
  return rows.map((r) => r.detail ?? '');
}

/** Signs in as the organization's own role with the password the control database keeps for it, and reads its admin. */
async function adminThroughOwnRole(stack: TestStack, orgId: string): Promise<string[]> {
  const [role] = await queryControlDatabase<{ role_name: string; granted: boolean }>(
    stack,
    'SELECT role_name, granted_at IS NOT NULL AS granted FROM tenant_database_roles WHERE org_id = $1',
    [orgId],
  );
  expect(role?.granted, 'the organization has its own granted role').to.equal(true);
  const url = await stack.worker?.roles.tenantUrl(
    { id: orgId, databaseName: databaseNameFor(orgId, stack.config.tenancy.databasePrefix) },
    await stack.worker.servers.directory.get(await defaultServerId(stack)),
  );
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ email: string; owner: string }>(
      `SELECT email, (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS owner FROM users WHERE role = 'admin'`,
    );
    expect(
      rows.every((r) => r.owner === role.role_name),
      'the database is owned by the organization role',
    ).to.equal(true);
    return rows.map((r) => r.email);
  } finally {
    await client.end();
  }
}

describe('Spare databases', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { SPARE_DATABASES: '2', DEFAULT_SERVER_CAPACITY: '4' }, worker: true });
    await stack.worker?.templateReady;
    await stack.worker?.spares.idle();
  });
  after(() => stack.stop());

  it('when a worker starts with SPARE_DATABASES=2, then its server holds two ready spares cloned from the current template, marked as spares and never as orphans', async () => {
    const rows = await spareRows(stack);
    expect(rows.map((r) => [r.status, r.template_version])).to.deep.equal([
      ['ready', latestTenantMigration],
      ['ready', latestTenantMigration],
    ]);
    const prefix = stack.config.tenancy.databasePrefix;
    expect(await spareDatabases(stack)).to.have.members(rows.map((r) => spareNameFor(r.id, prefix)));
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      for (const row of rows) expect(await admin.markerOf(spareNameFor(row.id, prefix))).to.equal(spareMarkerFor(row.id));
    } finally {
      await admin.close();
    }
    const orphans = await stack.worker?.sweeps[SWEEPS.orphans].run();
    expect(orphans?.orphans).to.deep.equal([]);
  });

  it('when an organization is created while a spare is ready, then it claims the spare (renamed, its role the organization’s) and a new spare is made in its place', async () => {
    const before = await spareRows(stack);
    const org = await createOrganization(stack, { email: 'first@spare.test' });
    await waitForStatus(stack, org.id, ['active']);
    expect(await eventDetails(stack, org.id)).to.include('database claimed on default');
    expect(await adminThroughOwnRole(stack, org.id)).to.deep.equal(['first@spare.test']);
    const prefix = stack.config.tenancy.databasePrefix;
    const names = await spareDatabases(stack);
    const taken = before.find((r) => !names.includes(spareNameFor(r.id, prefix)));
    expect(taken?.id, 'the oldest spare became the organization’s database').to.equal(before[0].id);
    await stack.worker?.spares.idle();
    const after = await spareRows(stack);
    expect(after.map((r) => r.status)).to.deep.equal(['ready', 'ready']);
    expect(after.filter((r) => before.some((b) => b.id === r.id))).to.have.length(1);
    const roles = await withClient(stack, (c) =>
      c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = $1`, [spareNameFor(before[0].id, prefix)]),
    );
    expect(roles.rows[0].n, 'the spare’s role was renamed, not left behind').to.equal(0);
  });

  it('when no spare is left, then the organization is cloned as without spares', async () => {
    const serverId = await defaultServerId(stack);
    // Withdraw every spare by hand (as a burst would take them all), without the sweep refilling meanwhile.
    await queryControlDatabase(stack, `UPDATE spare_databases SET status = 'preparing' WHERE server_id = $1`, [serverId]);
    const org = await createOrganization(stack);
    await waitForStatus(stack, org.id, ['active']);
    expect(await eventDetails(stack, org.id)).to.include('database cloned on default');
    await stack.worker?.spares.idle();
  });

  it('when the template moves to another tenant migration, then the spares cloned from the old one are retired and new ones made', async () => {
    await stack.worker?.spares.refill(await defaultServerId(stack));
    await queryControlDatabase(stack, `UPDATE spare_databases SET template_version = 'CreateUsers1732200000000'`);
    const old = await spareRows(stack);
    const outcome = await stack.worker?.spares.refill(await defaultServerId(stack));
    expect(outcome).to.deep.equal({ made: 2, retired: 2 });
    const prefix = stack.config.tenancy.databasePrefix;
    const names = await spareDatabases(stack);
    for (const spare of old) expect(names).to.not.include(spareNameFor(spare.id, prefix));
    expect((await spareRows(stack)).map((r) => r.template_version)).to.deep.equal([latestTenantMigration, latestTenantMigration]);
  });

  it('when the server’s capacity leaves less room than SPARE_DATABASES, then it keeps only as many spares as fit beside its organizations', async () => {
    // Capacity 4: two organizations (the ones made above) leave room for two spares; a third leaves room for one.
    const third = await createOrganization(stack);
    await waitForStatus(stack, third.id, ['active']);
    await stack.worker?.spares.idle();
    await stack.worker?.spares.refill(await defaultServerId(stack));
    const live = (await queryControlDatabase<{ n: number }>(stack, `SELECT count(*)::int AS n FROM organizations WHERE status <> 'purged'`))[0].n;
    expect(live).to.equal(3);
    expect(await spareRows(stack)).to.have.length(1);
    expect(live + (await spareDatabases(stack)).length, 'organizations and spares within the capacity').to.equal(4);
  });

  it('when a claim was recorded but the worker died before the rename, then the organization’s next attempt takes up its own claim', async () => {
    const serverId = await defaultServerId(stack);
    await stack.worker?.spares.refill(serverId);
    const [spare] = await spareRows(stack);
    const org = await createOrganization(stack);
    // As if a worker had claimed for this organization and died: the row claimed, the database still under the spare's name.
    await queryControlDatabase(stack, `UPDATE spare_databases SET status = 'claimed', claimed_by = $2 WHERE id = $1`, [spare.id, org.id]);
    await waitForStatus(stack, org.id, ['active']);
    expect(await eventDetails(stack, org.id)).to.include('database claimed on default');
    const prefix = stack.config.tenancy.databasePrefix;
    expect(await databaseExists(stack, spareNameFor(spare.id, prefix))).to.equal(false);
    const admin = await DatabaseAdmin.connect(stack.config.tenancy.serverUrl);
    try {
      expect(await admin.markerOf(databaseNameFor(org.id, prefix))).to.equal(markerFor(org.id));
    } finally {
      await admin.close();
    }
  });

  it('when the server stops taking organizations (draining), then its spares are dropped, and none are made there', async () => {
    const serverId = await defaultServerId(stack);
    await queryControlDatabase(stack, `UPDATE database_servers SET status = 'draining' WHERE id = $1`, [serverId]);
    stack.worker?.servers.directory.invalidate();
    const summary = await stack.worker?.sweeps[SWEEPS.spareDatabases].run();
    expect(summary?.made).to.equal(0);
    expect(await spareRows(stack)).to.deep.equal([]);
    expect(await spareDatabases(stack)).to.deep.equal([]);
    await queryControlDatabase(stack, `UPDATE database_servers SET status = 'active' WHERE id = $1`, [serverId]);
    stack.worker?.servers.directory.invalidate();
  });
});
