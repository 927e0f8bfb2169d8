import type { TenantUser } from '@orgms/common/users/tenant-user.entity';
import type { Page } from '../http/pagination';
import type { UserBody, UserListBody } from './users.responses';

/** The public shape of an organization user; never the password hash or the token version. */
export function presentUser(user: TenantUser, organizationId: string): UserBody {
  return {
    id: user.id,
    organization_id: organizationId,
    email: user.email,
    role: user.role,
    is_active: user.isActive,
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

export function presentUserPage(page: Page<TenantUser>, organizationId: string): UserListBody {
  return { items: page.items.map((user) => presentUser(user, organizationId)), next_cursor: page.nextCursor };
}
