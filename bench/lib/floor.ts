import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';

const SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The floor of provisioning: what PostgreSQL itself needs to make an organization database —
 * `CREATE DATABASE … TEMPLATE` of the same schema plus one INSERT of the admin row, over raw pg,
 * with no queue, no control-plane bookkeeping and no HTTP. Returns the milliseconds it took.
 */
export async function rawClone(template: string, name: string, passwordHash: string): Promise<number> {
  const started = performance.now();
  const server = new Client({ connectionString: SERVER_URL });
  await server.connect();
  try {
    await server.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
  } finally {
    await server.end();
  }
  const db = new Client({ connectionString: `postgres://postgres@127.0.0.1:5432/${name}` });
  await db.connect();
  try {
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
    for (const name of names) await server.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
  } finally {
    await server.end();
  }
}
