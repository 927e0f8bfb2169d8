import { setTimeout as sleep } from 'node:timers/promises';
import { withDatabase } from '@orgms/common/database/database-urls';
import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import { SecretBox } from '@orgms/common/secret-box';
import { quoteIdent, roleNameFor } from '@orgms/common/tenancy/database-names';
import { SCRAM_ITERATIONS, scramVerifier } from '@orgms/worker/tenancy/tenant-roles';
import { expect } from 'chai';
import { Client } from 'pg';
import { queryControlDatabase } from './support/control-database';
import { databaseOf, withClient } from './support/org-databases';
import { createActiveOrganization } from './support/org-users';
import { startStack, type TestStack } from './support/stack';

describe("Database limits on each organization's role", function () {
  this.timeout(90000);
  let stack: TestStack;
  let authorization: string;
  before(async () => {
    stack = await startStack({ worker: true });
    authorization = `Bearer ${await stack.adminToken()}`;
  });
  after(() => stack?.stop());

  const roleOf = (orgId: string) => roleNameFor(orgId, stack.config.tenancy.databasePrefix);

  async function limitsOf(orgId: string): Promise<{ connectionLimit: number; settings: string[] }> {
    const [row] = await withClient(
      stack,
      async (c) => (await c.query('SELECT rolconnlimit, rolconfig FROM pg_roles WHERE rolname = $1', [roleOf(orgId)])).rows,
    );
    return { connectionLimit: row.rolconnlimit, settings: [...(row.rolconfig ?? [])].sort() };
  }

  async function waitForConnectionLimit(orgId: string, expected: number): Promise<void> {
    const deadline = Date.now() + 15000;
    while ((await limitsOf(orgId)).connectionLimit !== expected) {
      if (Date.now() > deadline) throw new Error(`the role of ${orgId} never got CONNECTION LIMIT ${expected}`);
      await sleep(100);
    }
  }

  it('when an organization is provisioned, then its role has the default connection limit, statement and idle-in-transaction timeouts and temp file limit', async () => {
    const org = await createActiveOrganization(stack);
    expect(await limitsOf(org.id)).to.deep.equal({
      connectionLimit: 10,
      settings: ['idle_in_transaction_session_timeout=60000', 'statement_timeout=30000', 'temp_file_limit=1048576'],
    });
  });

  /** A platform admin's PATCH of the organization's database overrides (stored, then applied by the job it asks for). */
  async function overrideDatabaseLimits(orgId: string, database: Record<string, number>): Promise<void> {
    await stack.request.patch(`/organizations/${orgId}/limits`).set('Authorization', authorization).send({ database }).expect(200);
  }

  it('when a platform admin overrides its database limits, then the apply job sets them on the role, and a statement longer than the tiny statement_timeout is cancelled', async () => {
    const org = await createActiveOrganization(stack);
    await overrideDatabaseLimits(org.id, { connection_limit: 3, statement_timeout_ms: 200 });
    await waitForConnectionLimit(org.id, 3);
    expect((await limitsOf(org.id)).settings).to.include('statement_timeout=200');

    const url = new URL(withDatabase(stack.config.tenancy.serverUrl, databaseOf(stack, org.id)));
    url.username = roleOf(org.id);
    const asRole = new Client({ connectionString: url.toString() });
    await asRole.connect();
    try {
      const failure = await asRole.query('SELECT pg_sleep(2)').then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(failure, 'query_canceled by statement_timeout').to.equal('57014');
    } finally {
      await asRole.end();
    }
  });

  it("when the worker changes an organization's schema, then its session lifts the role's tiny statement timeout (a migration is not its users' work)", async () => {
    const org = await createActiveOrganization(stack);
    await overrideDatabaseLimits(org.id, { connection_limit: 5, statement_timeout_ms: 50 });
    await waitForConnectionLimit(org.id, 5);
    const url = new URL(withDatabase(stack.config.tenancy.serverUrl, databaseOf(stack, org.id)));
    url.username = roleOf(org.id);
    const schemaChanges = await createTenantDataSource(url.toString(), 1, { schemaChanges: true }).initialize();
    try {
      expect(await schemaChanges.query('SHOW statement_timeout')).to.deep.equal([{ statement_timeout: '0' }]);
      await schemaChanges.query('SELECT pg_sleep(0.2)');
    } finally {
      await schemaChanges.destroy();
    }
  });

  it('when a database limits run is started, then it applies to every active organization and reports its progress', async () => {
    const orgs = await Promise.all([createActiveOrganization(stack), createActiveOrganization(stack), createActiveOrganization(stack)]);
    for (const org of orgs) {
      await stack.api.stores.organizationLimits.setOverrides(org.id, { database: { connectionLimit: 4 } });
    }

    const started = await stack.request.post('/database-limits/runs').set('Authorization', authorization).expect(202);
    expect(started.headers.location).to.equal(`/database-limits/runs/${started.body.id}`);
    let run = started.body;
    const deadline = Date.now() + 20000;
    while (run.status !== 'completed') {
      if (Date.now() > deadline) throw new Error('the run never completed');
      await sleep(200);
      run = (await stack.request.get(started.headers.location).set('Authorization', authorization).expect(200)).body;
    }
    expect(run).to.include({ failed: 0, pending: 0, progress: 1 });
    expect(run.total).to.be.at.least(orgs.length);
    expect(run.succeeded).to.equal(run.total);
    for (const org of orgs) expect((await limitsOf(org.id)).connectionLimit).to.equal(4);
  });

  it("when a role's SCRAM verifier has 4,096 iterations, then applying its limits sets the same password again as a verifier of the low count", async () => {
    const org = await createActiveOrganization(stack);
    const verifierOf = async () =>
      (await withClient(stack, async (c) => (await c.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [roleOf(org.id)])).rows))[0]
        .rolpassword as string;
    const [row] = await queryControlDatabase<{ secret: string }>(stack, 'SELECT password_secret AS secret FROM tenant_database_roles WHERE org_id = $1', [
      org.id,
    ]);
    const password = new SecretBox(stack.config.secrets.current, stack.config.secrets.previous).open(row.secret);
    const matches = (verifier: string, iterations: number) => {
      const [, count, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(verifier) ?? [];
      return Number(count) === iterations && scramVerifier(password, Buffer.from(salt, 'base64'), iterations) === verifier;
    };
    expect(matches(await verifierOf(), SCRAM_ITERATIONS), 'a new role gets the low count').to.equal(true);

    // As a role made before the count was lowered.
    await withClient(stack, (c) => c.query(`ALTER ROLE ${quoteIdent(roleOf(org.id))} PASSWORD '${scramVerifier(password, undefined, 4096)}'`));
    expect(matches(await verifierOf(), 4096)).to.equal(true);
    await overrideDatabaseLimits(org.id, { connection_limit: 6 });
    await waitForConnectionLimit(org.id, 6);
    expect(matches(await verifierOf(), SCRAM_ITERATIONS), 'the same password, at the low count').to.equal(true);
  });

  it('when someone other than a platform admin starts a run, then it is refused', async () => {
    await stack.request.post('/database-limits/runs').expect(401);
  });
});
