import { randomUUID } from 'node:crypto';
import { CONTROL_ENTITIES } from '@orgms/common/database/control-data-source';
import { controlMigrations } from '@orgms/migrations';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import type { TestStack } from './stack';

/**
 * Runs SQL on the suite's control database over a connection of its own: for checking what the
 * service wrote (or did not), and for setting up states no route makes. The service's stores
 * stay the only code of the service that touches these tables.
 */
export async function queryControlDatabase<T = Record<string, unknown>>(stack: Pick<TestStack, 'config'>, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: stack.config.database.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A control database of a spec's own, with every control migration run (and the entities the stores use), and how to drop it. */
export async function scratchControlDatabase(label: string): Promise<{ dataSource: DataSource; drop: () => Promise<void> }> {
  const database = `orgms_test_${label}_${randomUUID().slice(0, 8)}`;
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const dataSource = await new DataSource({
    type: 'postgres',
    url: `postgres://postgres@127.0.0.1:5432/${database}`,
    entities: CONTROL_ENTITIES,
    migrations: controlMigrations,
    migrationsTableName: 'control_migrations',
  }).initialize();
  await dataSource.runMigrations();
  return {
    dataSource,
    drop: async () => {
      await dataSource.destroy();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * A DataSource on the scratch `database` whose migrations are the control migrations up to
 * `migration`: `before` it (the schema a migration spec fills with old rows) or `with` it (the one
 * it then checks, and undoes).
 */
export function controlMigrationsUpTo(database: string, migration: (typeof controlMigrations)[number], upTo: 'before' | 'with'): DataSource {
  const index = controlMigrations.indexOf(migration);
  if (index < 0) throw new Error(`${migration.name} is not a control migration`);
  return new DataSource({
    type: 'postgres',
    url: `postgres://postgres@127.0.0.1:5432/${database}`,
    migrations: controlMigrations.slice(0, upTo === 'before' ? index : index + 1),
    migrationsTableName: 'control_migrations',
  });
}
