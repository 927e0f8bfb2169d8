import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each organization's own PostgreSQL login role (docs/operations/tenant-databases.md, "Database roles"): its name and its password, sealed
 * with SECRETS_KEY. `granted_at` is set once the role owns the organization's database, and only
 * then do connections use it. A server whose admin role may not CREATE ROLE (managed PostgreSQL)
 * is registered with `tenant_roles = false`: its organizations use the service's role.
 */
export class TenantDatabaseRoles1732730000000 implements MigrationInterface {
  name = 'TenantDatabaseRoles1732730000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenant_database_roles (
        org_id uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
        role_name varchar(63) NOT NULL UNIQUE,
        password_secret text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        granted_at timestamptz(3)
      )`);
    await q.query(`ALTER TABLE database_servers ADD COLUMN tenant_roles boolean NOT NULL DEFAULT true`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE database_servers DROP COLUMN tenant_roles`);
    await q.query(`DROP TABLE tenant_database_roles`);
  }
}
