import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { withDatabase } from '@orgms/common/database/database-urls';
import { expect } from 'chai';
import { waitUntil } from '../../harness/wait';
import { DATABASES_FILE, PGBOUNCER_POOL, pgbouncerConsole, query, SECOND_SERVER } from '../support/fleet-processes';

/**
 * PgBouncer keeps idle server connections per database. With hundreds of organization databases
 * each touched now and then, the default 600 s kept more of them than the server's
 * max_connections, and every tenant request then failed with "too many clients" (found by the
 * chaos soak). The fleet's PgBouncer closes them after server_idle_timeout (15 s).
 */
describe('PgBouncer: idle server connections of organization databases', function () {
  this.timeout(60000);
  const database = `pgbidle_${randomBytes(4).toString('hex')}`;

  after(async () => {
    const lines = (await readFile(DATABASES_FILE, 'utf8')).split('\n');
    await writeFile(DATABASES_FILE, lines.filter((line) => !line.startsWith(database)).join('\n'));
    await pgbouncerConsole('RELOAD').catch(() => undefined);
    await query(SECOND_SERVER, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('when a database was used through PgBouncer and then left alone, then PgBouncer closes its server connection within 30 s', async () => {
    await query(SECOND_SERVER, `CREATE DATABASE ${database}`);
    await appendFile(DATABASES_FILE, `\n${database} = host=127.0.0.1 port=5433 dbname=${database}\n`);
    await pgbouncerConsole('RELOAD');
    const serversOf = async () => (await pgbouncerConsole<{ database: string }>('SHOW SERVERS')).filter((s) => s.database === database).length;

    await query(withDatabase(PGBOUNCER_POOL, database), 'SELECT 1');
    expect(await serversOf(), 'a server connection kept for the next client').to.equal(1);

    const released = Date.now();
    await waitUntil(async () => (await serversOf()) === 0, 30000, 'PgBouncer to close the idle server connection', 500);
    process.stdout.write(`      (closed ${((Date.now() - released) / 1000).toFixed(1)} s after it was released)\n`);
  });
});
