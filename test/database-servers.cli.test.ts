import { formatServerTable, parseDatabaseServersCommand } from '@orgms/cli/database-servers-command';
import { expect } from 'chai';
import { runCli } from './support/cli';
import { queryControlDatabase } from './support/control-database';
import { SECOND_SERVER_URL, startStack, type TestStack } from './support/stack';

describe('npm run servers:add|list|drain (apps/cli/src/database-servers.ts)', function () {
  this.timeout(60000);
  let stack: TestStack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack?.stop());

  /** Runs the CLI as `npm run servers:*` does, against the suite's control database; never throws. */
  const cli = (...args: string[]) => runCli(stack, 'database-servers.ts', args);

  it('when a usable server is added, then it is registered (sealed, printed masked) and the API lists it', async () => {
    const added = await cli(
      'add',
      '--name',
      'pg-b',
      '--admin-url',
      'postgres://postgres:s3cret@127.0.0.1:5433/postgres',
      '--capacity',
      '500',
      '--connection-budget',
      '12',
    );
    expect(added.code, added.stderr).to.equal(0);
    expect(added.stdout).to.match(/database server pg-b added/);
    expect(added.stdout).to.contain('postgres://postgres:****@127.0.0.1:5433/postgres');
    expect(added.stdout).to.not.contain('s3cret');
    const [row] = await queryControlDatabase<{ admin_url_secret: string; capacity: number; connection_budget: number }>(
      stack,
      'SELECT admin_url_secret, capacity, connection_budget FROM database_servers WHERE name = $1',
      ['pg-b'],
    );
    expect(row).to.include({ capacity: 500, connection_budget: 12 });
    expect(row.admin_url_secret).to.not.contain('s3cret');
    const listed = await stack.request
      .get('/database-servers')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    expect(listed.body.items.map((s: { name: string }) => s.name)).to.deep.equal(['default', 'pg-b']);
  });

  it('when the server cannot be used or the name is taken, then the CLI exits 1 with the reason and stores nothing', async () => {
    const dead = await cli(
      'add',
      '--name',
      'pg-dead',
      '--admin-url',
      'postgres://postgres@127.0.0.1:1/postgres',
      '--capacity',
      '5',
      '--connection-budget',
      '5',
    );
    expect(dead.code).to.equal(1);
    expect(dead.stderr).to.match(/cannot be used: cannot connect/);
    const taken = await cli('add', '--name', 'pg-b', '--admin-url', SECOND_SERVER_URL, '--capacity', '5', '--connection-budget', '5');
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.match(/already exists/);
    const bad = await cli('add', '--name', 'PG B', '--admin-url', SECOND_SERVER_URL);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/Usage: npm run servers:add/);
    expect(await queryControlDatabase(stack, 'SELECT name FROM database_servers ORDER BY name')).to.deep.equal([{ name: 'default' }, { name: 'pg-b' }]);
  });

  it('when the fleet is listed and a server drained, then a drain run starts and the table shows status, orgs/capacity, budget and masked URLs', async () => {
    const drained = await cli('drain', '--name', 'pg-b');
    expect(drained.code, drained.stderr).to.equal(0);
    expect(drained.stdout).to.match(/pg-b is draining/);
    const drainId = /drain ([0-9a-f-]{36}) started/.exec(drained.stdout)?.[1];
    expect(drainId, drained.stdout).to.be.a('string');
    expect(await stack.api.queues.migrations.getJob(`drain-${drainId}`), 'its job is queued').to.not.equal(undefined);
    const list = await cli('list');
    expect(list.code, list.stderr).to.equal(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).to.match(/^NAME\s+STATUS\s+ORGS\/CAPACITY\s+BUDGET\s+ADMIN URL\s+POOL URL$/);
    expect(lines[1]).to.match(/^default\s+active\s+0\/1000\s+40\s+postgres:\/\/postgres@127\.0\.0\.1:5432\/postgres\s+-$/);
    expect(lines[2]).to.match(/^pg-b\s+draining\s+0\/500\s+12\s+postgres:\/\/postgres:\*\*\*\*@127\.0\.0\.1:5433\/postgres\s+-$/);
    expect(list.stdout).to.not.contain('s3cret');
    const missing = await cli('drain', '--name', 'pg-nope');
    expect(missing.code).to.equal(1);
  });

  it("when a URL carries a credential or a parameter the API refuses, then the CLI exits 1 with the API's message and stores nothing", async () => {
    const auth = `Bearer ${await stack.adminToken()}`;
    for (const url of [`${SECOND_SERVER_URL}?password=hunter22`, `${SECOND_SERVER_URL}?sslrootcert=/etc/passwd`]) {
      const api = await stack.request
        .post('/database-servers')
        .set('Authorization', auth)
        .send({ name: 'pg-refused', admin_url: url, capacity: 5, connection_budget: 5 })
        .expect(400);
      const [refusal] = api.body.errors as { field: string; message: string }[];
      expect(refusal.field).to.equal('body.admin_url');
      const refused = await cli('add', '--name', 'pg-refused', '--admin-url', url, '--capacity', '5', '--connection-budget', '5');
      expect(refused.code, url).to.equal(1);
      expect(refused.stderr).to.contain(refusal.message);
      expect(refused.stderr).to.not.contain('hunter22');
    }
    expect(await queryControlDatabase(stack, 'SELECT name FROM database_servers WHERE name = $1', ['pg-refused'])).to.deep.equal([]);
  });

  it("when arguments are parsed, then they are the API's body checked by its schema: connection_budget is required, unknown options are refused, tenant roles default to true", () => {
    const { server } = parseDatabaseServersCommand([
      'add',
      '--name',
      'pg-b',
      '--admin-url',
      SECOND_SERVER_URL,
      '--capacity',
      '10',
      '--connection-budget',
      '12',
    ]) as { server: Record<string, unknown> };
    expect(server).to.include({ name: 'pg-b', adminUrl: SECOND_SERVER_URL, poolUrl: null, capacity: 10, connectionBudget: 12 });
    expect(server.tenantRoles ?? true).to.equal(true);
    const shared = parseDatabaseServersCommand([
      'add',
      '--name',
      'pg-b',
      '--admin-url',
      SECOND_SERVER_URL,
      '--capacity',
      '1',
      '--connection-budget',
      '1',
      '--tenant-roles',
      'false',
    ]);
    expect((shared as { server: Record<string, unknown> }).server).to.include({ tenantRoles: false });
    expect(() => parseDatabaseServersCommand(['add', '--name', 'pg-b', '--admin-url', SECOND_SERVER_URL, '--capacity', '10'])).to.throw(
      /connection_budget is required/,
    );
    expect(() =>
      parseDatabaseServersCommand(['add', '--name', 'pg-b', '--admin-url', SECOND_SERVER_URL, '--capacity', '1', '--connection-budget', '1', '--budget', '40']),
    ).to.throw(/budget is not allowed/);
    expect(parseDatabaseServersCommand(['list'])).to.deep.equal({ command: 'list' });
    expect(() => parseDatabaseServersCommand(['remove'])).to.throw(/one of: add, list, drain/);
    expect(() => parseDatabaseServersCommand(['add', '--name', 'pg-b', '--admin-url', 'http://x', '--capacity', '1', '--connection-budget', '1'])).to.throw(
      /admin_url/,
    );
    expect(formatServerTable([])).to.match(/^NAME/);
  });
});
