import type { TenantUser } from '@orgms/common';
import type { UserBody } from '../openapi/response-schemas';

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
