import type { TenantUser } from '@orgms/common';

/** The public shape of an organization user; never the password hash or the token version. */
export function presentUser(user: TenantUser, organizationId: string) {
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
