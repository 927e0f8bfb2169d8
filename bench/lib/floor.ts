import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { scramVerifier } from '@orgms/worker/tenancy/tenant-roles';
import { Client } from 'pg';

const SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The floor of provisioning: what PostgreSQL itself needs to make an organization database —
 * `CREATE DATABASE … TEMPLATE` of the same schema, owned by a login role of its own (named like
 * it) with CONNECT revoked from PUBLIC and its tables handed to the role (README "Database
 * roles"), plus one INSERT of the admin row, over raw pg, with no queue, no control-plane
 * bookkeeping and no HTTP. Returns the milliseconds it took.
 */
export async function rawClone(template: string, name: string, passwordHash: string): Promise<number> {
  const started = performance.now();
  const role = quoteIdent(name);
  const server = new Client({ connectionString: SERVER_URL });
  await server.connect();
  try {
    await server.query(`CREATE ROLE ${role} LOGIN PASSWORD '${scramVerifier('bench')}'`);
    await server.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)} OWNER ${role}`);
    await server.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoteIdent(name)} FROM PUBLIC`);
  } finally {
    await server.end();
  }
  const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${name}` });
  await db.connect();
  try {
    await db.query(`ALTER SCHEMA public OWNER TO ${role}; ALTER TABLE users OWNER TO ${role}; ALTER TABLE tenant_migrations OWNER TO ${role}`);
    await db.query(`INSERT INTO users (id, email, password_hash, role) VALUES (gen_random_uuid(), 'owner@bench.test', $1, 'admin')`, [passwordHash]);
  } finally {
    await db.end();
  }
  return performance.now() - started;
}

export async function dropDatabases(names: string[]): Promise<void> {
  const server = new Client({ connectionString: SERVER_URL });
  await server.connect();
  try {
    for (const name of names) {
      await server.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      await server.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`); // the floor's role (rawClone)
    }
  } finally {
    await server.end();
  }
}
