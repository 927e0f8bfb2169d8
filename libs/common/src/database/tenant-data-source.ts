import 'reflect-metadata';
import { tenantMigrations } from '@orgms/migrations';
import { DataSource } from 'typeorm';
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
export const SCHEMA_CHANGE_SESSION = '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0';

/**
 * A DataSource for one organization's database at `url` (fleet/server-urls.ts builds it from the
 * organization's server); callers own it and must `destroy()` it. `schemaChanges`: the worker's
 * migrations, on a direct connection (startup options do not pass through PgBouncer).
 * `timeouts`: the bounds of requests' pools (the API's); without them, only connecting is bounded.
 */
export function createTenantDataSource(url: string, poolSize = 2, options: { schemaChanges?: boolean; timeouts?: DatabaseTimeouts } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: TENANT_ENTITIES,
    migrations: tenantMigrations,
    migrationsTableName: 'tenant_migrations',
    poolSize,
    extra: { ...poolExtra(10000, options.timeouts), ...(options.schemaChanges ? { options: SCHEMA_CHANGE_SESSION } : {}) },
  });
}
