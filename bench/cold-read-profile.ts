/**
 * `npm run bench:cold-reads [-- --admin URL --tcp HOST:PORT --reads N --concurrency C]`: where a cold tenant read's
 * time goes (docs/development/benchmarks.md, "Cold reads"). On one server, a scratch database with
 * a users table and two login roles whose SCRAM-SHA-256 verifiers differ only in their PBKDF2
 * iterations (4,096, PostgreSQL's own count, and SCRAM_ITERATIONS). `reads` cold reads, C (50) at once,
 * per way in: raw pg (connect = TCP + startup + authentication, the users SELECT, close) and a
 * TypeORM DataSource of one connection as the API opens them (initialize, SELECT, destroy), each as
 * both roles, the latter also with the server facts known (the API's pools after the first); then the client's PBKDF2 alone at both counts, C at once. `--admin` sets things up
 * (any authentication); the roles log in over TCP at `--tcp`: against a server whose pg_hba.conf
 * says `trust` no password is asked and both roles cost the same, so measure SCRAM on a server of
 * your own with `scram-sha-256` host lines (the docs page shows how).
 */

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { createTenantDataSource, serverFactsOf } from '@orgms/common/database/tenant-data-source';
import { quoteIdent } from '@orgms/common/tenancy/database-names';
import { SCRAM_ITERATIONS, scramVerifier } from '@orgms/worker/tenancy/tenant-roles';
import { Client } from 'pg';
import { inPool } from './lib/service';
import { percentile, round } from './lib/stats';

// pg's own key derivation (Web Crypto PBKDF2 on libuv's thread pool), the one a login runs.
const { deriveKey } = require('pg/lib/crypto/utils') as { deriveKey: (password: string, salt: Buffer, iterations: number) => Promise<ArrayBuffer> };

const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const ADMIN_URL = arg('--admin', 'postgres://postgres@127.0.0.1:5432/postgres');
const TCP = arg('--tcp', '127.0.0.1:5432');
const READS = Number(arg('--reads', '1000'));
const CONCURRENCY = Number(arg('--concurrency', '50'));
/** The SELECT of `GET /organizations/:id/users`, as scenario 4's floor runs it. */
const LIST_USERS = `SELECT id, email, role, is_active, created_at, updated_at, last_login_at FROM users
  ORDER BY date_trunc('milliseconds', created_at), id LIMIT 51`;

type Phases = Record<string, number[]>;

async function admin<T>(database: string, work: (client: Client) => Promise<T>): Promise<T> {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** `count` cold reads, CONCURRENCY at once; each returns its phases' milliseconds. */
async function measure(count: number, read: () => Promise<Record<string, number>>): Promise<Phases> {
  const phases: Phases = {};
  await inPool(
    Array.from({ length: count }, (_, i) => i),
    CONCURRENCY,
    async () => {
      for (const [phase, ms] of Object.entries(await read())) {
        phases[phase] ??= [];
        phases[phase].push(ms);
      }
    },
  );
  return phases;
}

function report(label: string, phases: Phases): void {
  const cells = Object.entries(phases).map(([phase, ms]) => `${phase} p50 ${round(percentile(ms, 50))} / p99 ${round(percentile(ms, 99))}`);
  console.log(`| ${label.padEnd(42)} | ${cells.join(' | ')} |`);
}

async function main(): Promise<void> {
  const id = randomBytes(4).toString('hex');
  const database = `coldreads_${id}`;
  const roles = { 4096: `coldreads_${id}_i4096`, [SCRAM_ITERATIONS]: `coldreads_${id}_i${SCRAM_ITERATIONS}` } as Record<number, string>;
  const password = randomBytes(32).toString('base64url');
  console.log(
    `cold read profile on ${os.cpus().length} CPUs (load ${os.loadavg()[0].toFixed(1)}), roles log in at ${TCP}, ${READS} reads per line, ${CONCURRENCY} at once`,
  );
  await admin('postgres', async (c) => {
    await c.query(`CREATE DATABASE ${quoteIdent(database)}`);
    for (const [iterations, role] of Object.entries(roles)) {
      await c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${scramVerifier(password, randomBytes(16), Number(iterations))}'`);
    }
    const { rows } = await c.query<{ method: string; address: string }>(
      `SELECT auth_method AS method, address FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number LIMIT 1`,
    );
    console.log(`first host line of pg_hba.conf: ${rows[0] ? `${rows[0].address} ${rows[0].method}` : 'none'}`);
  });
  try {
    await admin(database, async (c) => {
      await c.query(`CREATE TABLE users (id uuid PRIMARY KEY, email text NOT NULL, role text NOT NULL, is_active boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(), last_login_at timestamptz)`);
      await c.query(`INSERT INTO users (id, email, role) SELECT gen_random_uuid(), 'user' || n || '@bench.test', 'member' FROM generate_series(1, 10) AS n`);
      for (const role of Object.values(roles)) await c.query(`GRANT SELECT ON users TO ${quoteIdent(role)}`);
    });
    const urlOf = (role: string) => `postgres://${role}:${password}@${TCP}/${database}`;
    console.log('| way in, role                               | phases (ms) |');
    for (const iterations of [4096, SCRAM_ITERATIONS]) {
      const url = urlOf(roles[iterations]);
      report(
        `raw pg, ${iterations} iterations`,
        await measure(READS, async () => {
          const t0 = performance.now();
          const client = new Client({ connectionString: url });
          await client.connect();
          const t1 = performance.now();
          await client.query(LIST_USERS);
          const t2 = performance.now();
          await client.end();
          const t3 = performance.now();
          return { connect: t1 - t0, query: t2 - t1, close: t3 - t2, total: t3 - t0 };
        }),
      );
    }
    // What a first connection teaches TypeORM, so that the API's later pools skip asking it (as forServer does).
    const learner = createTenantDataSource(urlOf(roles[SCRAM_ITERATIONS]), 1);
    await learner.initialize();
    const facts = serverFactsOf(learner);
    await learner.destroy();
    for (const [iterations, serverFacts] of [
      [4096, undefined],
      [SCRAM_ITERATIONS, undefined],
      [SCRAM_ITERATIONS, facts],
    ] as const) {
      const url = urlOf(roles[iterations]);
      report(
        `TypeORM pool of 1, ${iterations} iterations${serverFacts ? ', facts known' : ''}`,
        await measure(READS, async () => {
          const t0 = performance.now();
          const dataSource = createTenantDataSource(url, 1, { idleTimeoutMs: 0, serverFacts });
          await dataSource.initialize();
          const t1 = performance.now();
          await dataSource.query(LIST_USERS);
          const t2 = performance.now();
          await dataSource.destroy();
          const t3 = performance.now();
          return { initialize: t1 - t0, query: t2 - t1, destroy: t3 - t2, total: t3 - t0 };
        }),
      );
    }
    for (const iterations of [4096, SCRAM_ITERATIONS]) {
      report(
        `client PBKDF2 alone, ${iterations} iterations`,
        await measure(READS, async () => {
          const t0 = performance.now();
          await deriveKey(password, randomBytes(16), iterations);
          return { pbkdf2: performance.now() - t0 };
        }),
      );
    }
  } finally {
    await admin('postgres', async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
      for (const role of Object.values(roles)) await c.query(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
