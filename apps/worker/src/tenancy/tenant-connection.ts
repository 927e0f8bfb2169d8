import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import { seedAdminStatement, TenantUserStore } from '@orgms/common/users/tenant-user-store';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';

/** What provisioning does inside a new organization database. */
export interface ProvisioningConnection {
  /** Brings the schema to the latest tenant migration; how many migrations ran. */
  migrate(): Promise<number>;
  seedAdmin(email: string, passwordHash: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A connection to the organization database just made, at `url` (as its own role once it has one). A fresh clone
 * of the current template is already at the latest migration (the template's marker says so), so
 * it needs only a plain connection: building a TypeORM DataSource and reading its migrations
 * table cost more than the rest of provisioning's work in the database. Any other database (built
 * empty, or adopted after a crash) gets the DataSource and runs its migrations.
 */
export async function openProvisioningConnection(url: string, freshClone: boolean): Promise<ProvisioningConnection> {
  return freshClone ? plainConnection(url) : migratingConnection(url);
}

async function plainConnection(url: string): Promise<ProvisioningConnection> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session surfaces on the next query instead
  await client.connect();
  return {
    migrate: async () => 0,
    seedAdmin: async (email, passwordHash) => {
      await client.query(...seedAdminStatement(email, passwordHash));
    },
    close: () => client.end().catch(() => undefined),
  };
}

async function migratingConnection(url: string): Promise<ProvisioningConnection> {
  const dataSource: DataSource = await createTenantDataSource(url, 1, { schemaChanges: true }).initialize();
  return {
    migrate: async () => (await dataSource.runMigrations({ transaction: 'each' })).length,
    seedAdmin: (email, passwordHash) => new TenantUserStore(dataSource).seedAdmin(email, passwordHash),
    close: () => dataSource.destroy().catch(() => undefined),
  };
}
