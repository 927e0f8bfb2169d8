import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { SecretBox } from '../secret-box';

/** An organization's own login role, its password opened (never leaves the process). */
export interface TenantRoleCredentials {
  roleName: string;
  password: string;
}

interface RoleRow {
  roleName: string;
  passwordSecret: string;
}

/**
 * The one owner of `tenant_database_roles`: each organization's login role and its password,
 * sealed with SECRETS_KEY like the servers' URLs. A password is made once and never changes, so
 * a role re-created on another server (a move) or after a crash takes the same one, and the API
 * may keep credentials it has read. A role counts (connections use it) once `granted_at` is set.
 */
export class TenantRoleStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * The organization's role, made up (name given, random password) and recorded the first time.
   * Two workers racing agree: the first insert wins and both read it back.
   */
  async ensureCredentials(orgId: string, roleName: string): Promise<TenantRoleCredentials> {
    await this.dataSource.query(`INSERT INTO tenant_database_roles (org_id, role_name, password_secret) VALUES ($1, $2, $3) ON CONFLICT (org_id) DO NOTHING`, [
      orgId,
      roleName,
      this.secrets.seal(randomBytes(32).toString('hex')),
    ]);
    const [row]: RoleRow[] = await this.dataSource.query(
      `SELECT role_name AS "roleName", password_secret AS "passwordSecret" FROM tenant_database_roles WHERE org_id = $1`,
      [orgId],
    );
    return this.opened(row);
  }

  /** Recorded once the role owns the organization's database: from then on connections log in as it. */
  async markGranted(orgId: string): Promise<void> {
    await this.dataSource.query(`UPDATE tenant_database_roles SET granted_at = coalesce(granted_at, now()) WHERE org_id = $1`, [orgId]);
  }

  /** The credentials connections use, or undefined while the organization has no granted role of its own. */
  async grantedCredentials(orgId: string): Promise<TenantRoleCredentials | undefined> {
    const [row]: RoleRow[] = await this.dataSource.query(
      `SELECT role_name AS "roleName", password_secret AS "passwordSecret" FROM tenant_database_roles WHERE org_id = $1 AND granted_at IS NOT NULL`,
      [orgId],
    );
    return row && this.opened(row);
  }

  /** Those of `orgIds` that have a granted role (the others are what a fleet run gives one). */
  async withGrantedRoles(orgIds: string[]): Promise<Set<string>> {
    return new Set((await this.grantedRoleNames(orgIds)).keys());
  }

  /** The granted role's name of each of `orgIds` that has one, without opening a password. */
  async grantedRoleNames(orgIds: string[]): Promise<Map<string, string>> {
    const rows: { orgId: string; roleName: string }[] = await this.dataSource.query(
      `SELECT org_id AS "orgId", role_name AS "roleName" FROM tenant_database_roles WHERE org_id = ANY($1::uuid[]) AND granted_at IS NOT NULL`,
      [orgIds],
    );
    return new Map(rows.map((r) => [r.orgId, r.roleName]));
  }

  /** Seals again, with the current key, every password sealed with an older one; returns how many. */
  async resealStale(): Promise<number> {
    const rows: (RoleRow & { orgId: string })[] = await this.dataSource.query(
      `SELECT org_id AS "orgId", role_name AS "roleName", password_secret AS "passwordSecret" FROM tenant_database_roles`,
    );
    const stale = rows.filter((row) => this.secrets.isStale(row.passwordSecret));
    for (const row of stale) {
      await this.dataSource.query(`UPDATE tenant_database_roles SET password_secret = $2 WHERE org_id = $1 AND password_secret = $3`, [
        row.orgId,
        this.secrets.seal(this.secrets.open(row.passwordSecret)),
        row.passwordSecret,
      ]);
    }
    return stale.length;
  }

  private opened(row: RoleRow): TenantRoleCredentials {
    return { roleName: row.roleName, password: this.secrets.open(row.passwordSecret) };
  }
}
