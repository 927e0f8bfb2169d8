import { randomBytes } from 'node:crypto';
import { withDatabase } from '@orgms/common/database/database-urls';
import { lockDownSharedDatabases } from '@orgms/common/database/shared-databases';
import { createLogger } from '@orgms/common/logger';
import { expect } from 'chai';
import { Client } from 'pg';

const SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

async function onServer<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: SERVER });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Whether `role` (or 'public') may CONNECT to / make TEMP tables in `database`. */
async function rights(role: string, database: string): Promise<{ connect: boolean; temporary: boolean }> {
  const [row] = await onServer<{ connect: boolean; temporary: boolean }>(
    `SELECT has_database_privilege($1, $2, 'CONNECT') AS connect, has_database_privilege($1, $2, 'TEMPORARY') AS temporary`,
    [role, database],
  );
  return row;
}

describe('Closing shared databases to PUBLIC (lockDownSharedDatabases)', function () {
  this.timeout(30000);
  const id = randomBytes(4).toString('hex');
  const database = `t${id}_shared`;
  const owner = `t${id}_owner`; // CREATEDB, owns the database: what a fleet's admin role is
  const service = `t${id}_pool`; // another role of the service (a pool URL's): must keep CONNECT
  const outsider = `t${id}_outsider`; // CREATEDB but not the owner: may not change the grants
  const logger = createLogger('test', 'warn');
  logger.silent = true;
  const as = (role: string) => {
    const url = new URL(SERVER);
    url.username = role;
    return url.toString();
  };

  before(async () => {
    await onServer(`CREATE ROLE "${owner}" LOGIN CREATEDB; CREATE ROLE "${service}" LOGIN; CREATE ROLE "${outsider}" LOGIN CREATEDB`);
    await onServer(`CREATE DATABASE "${database}" OWNER "${owner}"`);
  });
  after(async () => {
    await onServer(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    for (const role of [owner, service, outsider]) await onServer(`DROP OWNED BY "${role}"; DROP ROLE IF EXISTS "${role}"`);
  });

  it('when the connected role may not change its grants, then nothing fails, nothing changes, and the exact SQL for an operator comes back', async () => {
    const outcome = await lockDownSharedDatabases(withDatabase(as(outsider), database), [database, `t${id}_missing`], [service], logger);
    expect(outcome).to.deep.equal({
      revoked: [],
      manual: [
        `GRANT CONNECT ON DATABASE ${database} TO ${outsider};`,
        `GRANT CONNECT ON DATABASE ${database} TO ${service};`,
        `REVOKE CONNECT, TEMPORARY ON DATABASE ${database} FROM PUBLIC;`,
      ],
    });
    expect(await rights('public', database)).to.deep.equal({ connect: true, temporary: true });
  });

  it('when its owner runs it, then PUBLIC loses CONNECT and TEMPORARY, the service roles keep CONNECT, and a second run changes nothing', async () => {
    expect(await lockDownSharedDatabases(withDatabase(as(owner), database), [database], [service], logger)).to.deep.equal({ revoked: [database], manual: [] });
    expect(await rights('public', database)).to.deep.equal({ connect: false, temporary: false });
    expect(await rights(outsider, database)).to.deep.equal({ connect: false, temporary: false });
    expect((await rights(service, database)).connect).to.equal(true);
    expect((await rights(owner, database)).connect).to.equal(true);
    const client = new Client({ connectionString: withDatabase(as(outsider), database) });
    const refusal = await client.connect().then(
      () => 'connected',
      (error: Error) => error.message,
    );
    await client.end().catch(() => undefined);
    expect(refusal).to.match(/^permission denied for database/);

    expect(await lockDownSharedDatabases(withDatabase(as(owner), database), [database], [service], logger)).to.deep.equal({ revoked: [], manual: [] });
  });
});
