import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { withDatabase } from '@orgms/common/database/database-urls';
import { roleNameFor } from '@orgms/common/tenancy/database-names';
import { expect } from 'chai';
import { Client } from 'pg';
import { DATABASES_FILE, PGBOUNCER_POOL, pgbouncerConsole, query, SECOND_SERVER } from '../support/fleet-processes';
import { databaseOf } from '../support/org-databases';
import { createOrganization, waitForStatus } from '../support/organizations';
import { startStack, type TestStack } from '../support/stack';

/** Logging in to `database` behind `url` as `role` (trust here: what decides is CONNECT); the error message when refused. */
async function loginAs(url: string, role: string, database: string): Promise<string> {
  const target = new URL(withDatabase(url, database));
  target.username = role;
  const client = new Client({ connectionString: target.toString(), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Organizations' roles exist server-wide, so a server registered after the service started must
 * have its `postgres` and `template1` closed to PUBLIC too, and PgBouncer (which logs in to the
 * server as the client's role) must not be a way around it.
 */
describe('A database server registered later: its shared databases are closed to organization roles, directly and through PgBouncer', function () {
  this.timeout(120000);
  let stack: TestStack;
  let authorization: string;

  before(async () => {
    stack = await startStack({ worker: true });
    authorization = `Bearer ${await stack.adminToken()}`;
    // A server as PostgreSQL makes it (another suite may have closed these already).
    await query(SECOND_SERVER, 'GRANT CONNECT, TEMPORARY ON DATABASE postgres TO PUBLIC; GRANT CONNECT ON DATABASE template1 TO PUBLIC');
  });
  after(async () => {
    const lines = (await readFile(DATABASES_FILE, 'utf8')).split('\n');
    await writeFile(DATABASES_FILE, lines.filter((line) => !line.startsWith(`t${stack.id}_`)).join('\n'));
    await pgbouncerConsole('RELOAD').catch(() => undefined);
    await stack?.stop();
  });

  it('when pg-b is registered and an organization is placed there, then its role is refused postgres and template1, on the server and through PgBouncer, and reaches its own database', async () => {
    await stack.request
      .post('/database-servers')
      .set('Authorization', authorization)
      .send({ name: 'pg-b', admin_url: SECOND_SERVER, pool_url: PGBOUNCER_POOL, capacity: 5, connection_budget: 4 })
      .expect(201);
    const [open] = await query<{ postgres: boolean; template1: boolean }>(
      SECOND_SERVER,
      `SELECT has_database_privilege('public', 'postgres', 'CONNECT') AS postgres, has_database_privilege('public', 'template1', 'CONNECT') AS template1`,
    );
    expect(open, 'PUBLIC may connect after the registration').to.deep.equal({ postgres: false, template1: false });

    const org = await createOrganization(stack, { database_server: 'pg-b' } as Record<string, string>);
    expect((await waitForStatus(stack, org.id, ['active', 'failed'], 60000)).status).to.equal('active');
    const role = roleNameFor(org.id, stack.config.tenancy.databasePrefix);
    const own = databaseOf(stack, org.id);

    expect(await loginAs(SECOND_SERVER, role, 'postgres')).to.match(/^permission denied for database "postgres"/);
    expect(await loginAs(SECOND_SERVER, role, 'template1')).to.match(/^permission denied for database "template1"/);
    expect(await loginAs(SECOND_SERVER, role, own)).to.equal('connected');

    // Without an entry PgBouncer lets no one in ('"trust" authentication failed': it looks the role
    // up in that database); with one (a wildcard, a hand-written line), PostgreSQL's CONNECT check
    // still refuses the role behind it.
    const alias = (database: string) => `t${stack.id}_via_${database}`;
    await appendFile(
      DATABASES_FILE,
      ['postgres', 'template1'].map((database) => `\n${alias(database)} = host=127.0.0.1 port=5433 dbname=${database}`).join('') +
        `\n${own} = host=127.0.0.1 port=5433 dbname=${own}\n`,
    );
    await pgbouncerConsole('RELOAD');
    expect(await loginAs(PGBOUNCER_POOL, role, 'postgres')).to.not.equal('connected');
    expect(await loginAs(PGBOUNCER_POOL, role, alias('postgres'))).to.match(/^permission denied for database "postgres"/);
    expect(await loginAs(PGBOUNCER_POOL, role, alias('template1'))).to.match(/^permission denied for database "template1"/);
    expect(await loginAs(PGBOUNCER_POOL, role, own)).to.equal('connected');
  });
});
