import type { PlatformAdmin } from '@orgms/common/sign-in/platform-admin.entity';
import { presentUser } from '../users/user.presenter';
import type { SessionAccount } from './sessions.service';
import type { PlatformAdminBody, TokenBody } from './sign-in.responses';
import type { IssuedToken } from './tokens';

export function presentPlatformAdmin(admin: PlatformAdmin): PlatformAdminBody {
  return { id: admin.id, email: admin.email, role: 'platform_admin', created_at: admin.createdAt.toISOString() };
}

/** A login's (or a refresh's) answer: the access token, the refresh token that renews it, and who they are for. */
export function presentSession(account: SessionAccount, access: IssuedToken, refresh: { token: string; expiresIn: number }): TokenBody {
  const user =
    account.kind === 'platform_admin'
      ? { id: account.admin.id, email: account.admin.email, role: 'platform_admin' as const }
      : presentUser(account.user, account.org.id);
  return { ...access, refresh_token: refresh.token, refresh_expires_in: refresh.expiresIn, user };
}

/** A platform admin as stored, from which the API document's sign-in examples are rendered above. */
const admin = {
  id: '5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b',
  email: 'admin@example.com',
  tokenVersion: 0,
  isActive: true,
  createdAt: new Date('2026-11-21T21:13:17.815Z'),
  updatedAt: new Date('2026-11-21T21:13:17.815Z'),
} as PlatformAdmin;
const access: IssuedToken = { access_token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…', token_type: 'bearer', expires_in: 900 };
const refreshExpiresIn = 2592000;

/** The document's examples of sign-in answers (components.examples), so they cannot drift from the answers. */
export const signInExamples = {
  PlatformAdminSession: presentSession({ kind: 'platform_admin', admin }, access, {
    token: 'q3Xh0m9pB1d2Vx7yZ4kLw8sT6uR5eN0aC3fG1hJ2iK4',
    expiresIn: refreshExpiresIn,
  }),
  RefreshedSession: presentSession({ kind: 'platform_admin', admin }, access, {
    token: 'Vd8kQ2pL0xN7sR4tY1uW6zA3bC9eF5gH2iJ0kL8mN4o',
    expiresIn: refreshExpiresIn,
  }),
  RegisteredPlatformAdmin: presentPlatformAdmin({
    ...admin,
    id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d',
    email: 'second@example.com',
    createdAt: new Date('2026-11-21T21:20:00.000Z'),
  }),
};
