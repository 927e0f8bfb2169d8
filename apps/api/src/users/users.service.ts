import { databaseOverQuota, quotaRefusingNewUser, refuseOverQuota } from '@orgms/common/limits/quotas';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { holdsTokenVersion } from '@orgms/common/sign-in/token-version';
import type { TenantUser, UserRole } from '@orgms/common/users/tenant-user.entity';
import { TenantUserStore, type UserChanges } from '@orgms/common/users/tenant-user-store';
import type { AuditService } from '../audit/audit.service';
import { type Page, pageQuery, withCursor } from '../http/pagination';
import type { OrganizationLimitsReader } from '../limits/organization-limits-reader';
import type { PasswordHashing } from '../limits/password-hashing';
import type { TenantDatabases } from '../tenancy/tenant-databases';

export interface CreateUserInput {
  email: string;
  password: string;
  role: UserRole;
  is_active: boolean;
}

export interface UpdateUserInput {
  role?: UserRole;
  is_active?: boolean;
  password?: string;
}

/**
 * User management inside an organization's own database. Callers have already authorized the
 * request for `org` (sign-in/authorize-organization.ts); passwords are hashed before a tenant
 * connection is leased, so a slow bcrypt never holds a pooled connection, and one organization's
 * hashes run one at a time (limits/password-hashing.ts). Changes are audited
 * after they commit: the organization's database cannot share a transaction with the log.
 */
export class UsersService {
  constructor(
    private readonly tenants: TenantDatabases,
    private readonly passwords: Pick<PasswordHashing, 'hash'>,
    private readonly audit: Pick<AuditService, 'recordAfter'>,
    private readonly limits: Pick<OrganizationLimitsReader, 'limitsOf' | 'rowOf'>,
  ) {}

  /** Refused (403 quota-exceeded) when the organization has its users quota already, or its database is over its quota. */
  async create(org: Organization, input: CreateUserInput): Promise<TenantUser> {
    const [{ quotas }, { usage }] = await Promise.all([this.limits.limitsOf(org.id), this.limits.rowOf(org.id)]);
    // A database over its quota refuses before any bcrypt or connection.
    refuseOverQuota(databaseOverQuota(quotas, usage.databaseBytes));
    const passwordHash = await this.passwords.hash(org.id, input.password);
    const user = await this.tenants.write(org, async (db) => {
      const users = new TenantUserStore(db);
      // Counted before the insert, without a lock: concurrent creations may each see room for one
      // more and overshoot the quota by their number (at most the organization's connection budget).
      refuseOverQuota(quotaRefusingNewUser(quotas, { users: await users.count(), databaseBytes: usage.databaseBytes }));
      return users.insert({ email: input.email, passwordHash, role: input.role, isActive: input.is_active });
    });
    await this.audit.recordAfter({
      action: 'user.created',
      orgId: org.id,
      target: { type: 'user', id: user.id },
      details: { email: user.email, role: user.role, is_active: user.isActive },
    });
    return user;
  }

  async list(org: Organization, filter: { limit: number; cursor?: string }): Promise<Page<TenantUser>> {
    const page = pageQuery(filter); // a bad cursor is a 400 before a connection is leased
    return withCursor(await this.tenants.read(org, (db) => new TenantUserStore(db).list(page)));
  }

  get(org: Organization, userId: string): Promise<TenantUser> {
    return this.tenants.read(org, (db) => new TenantUserStore(db).get(userId));
  }

  async update(org: Organization, userId: string, input: UpdateUserInput): Promise<TenantUser> {
    const changes: UserChanges = { role: input.role, isActive: input.is_active };
    if (input.password !== undefined) changes.passwordHash = await this.passwords.hash(org.id, input.password);
    const user = await this.tenants.write(org, (db) => new TenantUserStore(db).update(userId, changes));
    // Which members changed, and the new role and activity; a new password only as a name in `changed`.
    const changed = Object.keys(input).filter((key) => input[key as keyof UpdateUserInput] !== undefined);
    await this.audit.recordAfter({
      action: 'user.updated',
      orgId: org.id,
      target: { type: 'user', id: userId },
      details: { changed, role: user.role, is_active: user.isActive },
    });
    return user;
  }

  async delete(org: Organization, userId: string): Promise<void> {
    await this.tenants.write(org, (db) => new TenantUserStore(db).delete(userId));
    await this.audit.recordAfter({ action: 'user.deleted', orgId: org.id, target: { type: 'user', id: userId } });
  }

  /** Whether a token issued at `tokenVersion` for this user is still good. */
  async isTokenCurrent(org: Organization, userId: string, tokenVersion: number | undefined): Promise<boolean> {
    return holdsTokenVersion(await this.tenants.read(org, (db) => new TenantUserStore(db).authState(userId)), tokenVersion);
  }
}
