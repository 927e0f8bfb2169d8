import type { Organization } from '@orgms/common/entities/organization.entity';
import type { TenantUser, UserRole } from '@orgms/common/entities/tenant-user.entity';
import { hashPassword } from '@orgms/common/passwords';
import { TenantUserStore, type UserChanges } from '@orgms/common/tenancy/tenant-user-store';
import { holdsTokenVersion } from '@orgms/common/token-version';
import type { TenantDatabases } from '../tenancy/tenant-databases';
import { type Page, pageQuery, withCursor } from './pagination';

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
 * request for `org` (auth/authorize-organization.ts); passwords are hashed before a tenant
 * connection is leased, so a slow bcrypt never holds a pooled connection.
 */
export class UsersService {
  constructor(
    private readonly tenants: TenantDatabases,
    private readonly bcryptRounds: number,
  ) {}

  async create(org: Organization, input: CreateUserInput): Promise<TenantUser> {
    const passwordHash = await hashPassword(input.password, this.bcryptRounds);
    return this.tenants.write(org, (db) => new TenantUserStore(db).insert({ email: input.email, passwordHash, role: input.role, isActive: input.is_active }));
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
    if (input.password !== undefined) changes.passwordHash = await hashPassword(input.password, this.bcryptRounds);
    return this.tenants.write(org, (db) => new TenantUserStore(db).update(userId, changes));
  }

  delete(org: Organization, userId: string): Promise<void> {
    return this.tenants.write(org, (db) => new TenantUserStore(db).delete(userId));
  }

  /** Whether a token issued at `tokenVersion` for this user is still good. */
  async isTokenCurrent(org: Organization, userId: string, tokenVersion: number | undefined): Promise<boolean> {
    return holdsTokenVersion(await this.tenants.read(org, (db) => new TenantUserStore(db).authState(userId)), tokenVersion);
  }
}
