import 'reflect-metadata';
import { tenantMigrations } from '@orgms/migrations';
import { DataSource } from 'typeorm';
import { TenantUser } from '../users/tenant-user.entity';
import { poolExtra } from './pool-options';

export const TENANT_ENTITIES = [TenantUser];

/**
 * A DataSource for one organization's database at `url` (fleet/server-urls.ts builds it from the
 * organization's server); callers own it and must `destroy()` it.
 */
export function createTenantDataSource(url: string, poolSize = 2): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: TENANT_ENTITIES,
    migrations: tenantMigrations,
    migrationsTableName: 'tenant_migrations',
    poolSize,
    extra: poolExtra(10000),
  });
}
