import 'reflect-metadata';
import { tenantMigrations } from '@orgms/migrations';
import { DataSource } from 'typeorm';
import type { TenancyConfig } from '../config';
import { TenantUser } from '../entities/tenant-user.entity';
import { withDatabase } from './database-urls';
import { poolExtra } from './pool-options';

export const TENANT_ENTITIES = [TenantUser];

/** A DataSource for one organization's database; callers own it and must `destroy()` it. */
export function createTenantDataSource(tenancy: Pick<TenancyConfig, 'serverUrl'>, databaseName: string, poolSize = 2): DataSource {
  return new DataSource({
    type: 'postgres',
    url: withDatabase(tenancy.serverUrl, databaseName),
    entities: TENANT_ENTITIES,
    migrations: tenantMigrations,
    migrationsTableName: 'tenant_migrations',
    poolSize,
    extra: poolExtra(10000),
  });
}
