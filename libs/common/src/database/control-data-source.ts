import 'reflect-metadata';
import { controlMigrations } from '@orgms/migrations';
import { Client } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config';
import { Organization } from '../organizations/organization.entity';
import { OrganizationEvent } from '../organizations/organization-event.entity';
import { PlatformAdmin } from '../sign-in/platform-admin.entity';
import { quoteIdent } from '../tenancy/database-names';
import { databaseNameOf, serverOf } from './database-urls';
import { poolExtra } from './pool-options';

export const CONTROL_ENTITIES = [Organization, OrganizationEvent, PlatformAdmin];

export function createControlDataSource(database: DatabaseConfig, poolSize = 10): DataSource {
  return new DataSource({
    type: 'postgres',
    url: database.url,
    entities: CONTROL_ENTITIES,
    migrations: controlMigrations,
    migrationsTableName: 'control_migrations',
    poolSize,
    extra: poolExtra(30000, database.timeouts),
  });
}

/**
 * Creates the control database when it is missing (DATABASE_URL's role needs CREATEDB for that).
 * Asks the control database itself first: `postgres`, where it is created from, is closed to
 * roles other than the fleet's admin (shared-databases.ts), so an existing one must not need it.
 */
export async function ensureControlDatabaseExists(database: DatabaseConfig): Promise<void> {
  if (await controlDatabaseExists(database.url)) return;
  const name = databaseNameOf(database.url);
  const client = new Client({ connectionString: serverOf(database.url), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`).catch((error: { code?: string }) => {
      // Another process created it between our check and our CREATE: that is what we wanted.
      if (error.code !== '42P04') throw error;
    });
  } finally {
    await client.end();
  }
}

/** Whether the control database accepts a connection; false only when it does not exist (3D000). */
async function controlDatabaseExists(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return false;
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Brings the control database to the latest migration. The API, the worker and
 * `npm run migrate` may all do this at once, so it runs under an advisory lock. Waiting for that
 * lock and changing the schema are long work of the service's own, not a request's: they run on a
 * pool of their own (two connections: the lock's and the migrations') without the query bound.
 */
export async function migrateControlDatabase(dataSource: DataSource): Promise<string[]> {
  const migrator = new DataSource({ ...dataSource.options, poolSize: 2, extra: poolExtra(30000) } as DataSourceOptions);
  await migrator.initialize();
  const runner = migrator.createQueryRunner();
  try {
    await runner.connect();
    await runner.query("SELECT pg_advisory_lock(hashtext('orgms:control-migrations'))");
    const applied = await migrator.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query("SELECT pg_advisory_unlock(hashtext('orgms:control-migrations'))").catch(() => undefined);
    await runner.release();
    await migrator.destroy();
  }
}
