import 'reflect-metadata';
import { tenantMigrations } from '@orgms/migrations';
import type { ClientBase } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { DatabaseTimeouts } from '../config';
import { TenantUser } from '../users/tenant-user.entity';
import { poolExtra } from './pool-options';

export const TENANT_ENTITIES = [TenantUser];

/**
 * Session settings of the worker's schema changes. An organization's role carries its
 * statement and idle-in-transaction timeouts (its database limits), which bound what its users'
 * requests may cost; a migration of its schema is the service's own work and may take longer, so
 * its sessions lift them (a startup option overrides the role's setting for that session only).
 */
const SCHEMA_CHANGE_SESSION = '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0';

export interface TenantDataSourceOptions {
  /** The worker's migrations, on a direct connection (startup options do not pass through PgBouncer). */
  schemaChanges?: boolean;
  /** The bounds of requests' pools (the API's); without them, only connecting is bounded. */
  timeouts?: DatabaseTimeouts;
  /** An idle connection is closed after this long; 0: never (the API's connection manager closes whole pools). Default 10 s. */
  idleTimeoutMs?: number;
  /** Called with every connection the pool opens. */
  onConnection?: (connection: ClientBase) => void;
  /** What another DataSource on the same server learned (`serverFactsOf`): its `initialize()` then asks nothing more. */
  serverFacts?: ServerFacts;
}

/**
 * What TypeORM asks on a DataSource's first connection before any work, one round trip each,
 * unless it knows them: `SELECT version()` and `current_schema()` (the database it takes from the
 * URL). Both are the same for every organization database of a server (clones of one template,
 * roles made alike), so the API's pools on a server learn them once and a cold read pays a
 * connect and its own query, not two more round trips.
 */
export interface ServerFacts {
  version: string;
  searchSchema: string;
}

/** The server facts an initialized DataSource learned; undefined before. */
export function serverFactsOf(dataSource: DataSource): ServerFacts | undefined {
  const { version, searchSchema } = dataSource.driver as PostgresDriver;
  return version && searchSchema ? { version, searchSchema } : undefined;
}

/**
 * A DataSource for one organization's database at `url` (fleet/server-urls.ts builds it from the
 * organization's server); callers own it and must `destroy()` it.
 */
export function createTenantDataSource(url: string, poolSize = 2, options: TenantDataSourceOptions = {}): DataSource {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: TENANT_ENTITIES,
    migrations: tenantMigrations,
    migrationsTableName: 'tenant_migrations',
    poolSize,
    extra: {
      ...poolExtra(options.idleTimeoutMs ?? 10000, options.timeouts, options.onConnection),
      ...(options.schemaChanges ? { options: SCHEMA_CHANGE_SESSION } : {}),
    },
  });
  // TypeORM's driver asks only for what it does not know yet (`??=`).
  if (options.serverFacts) Object.assign(dataSource.driver as PostgresDriver, options.serverFacts);
  return dataSource;
}
