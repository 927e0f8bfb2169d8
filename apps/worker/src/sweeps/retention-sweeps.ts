import type { AuditLogStore } from '@orgms/common/audit/audit-log-store';
import type { RefreshTokenStore } from '@orgms/common/sign-in/refresh-token-store';

/** Forgets expired refresh tokens, which are refused anyway, so the table does not grow with every login. */
export async function deleteExpiredRefreshTokens(refreshTokens: Pick<RefreshTokenStore, 'deleteExpired'>): Promise<{ deleted: number }> {
  return { deleted: await refreshTokens.deleteExpired() };
}

/** Deletes audit entries older than AUDIT_RETENTION_DAYS; 0 keeps every entry, and the pass does nothing. */
export async function expireAuditEntries(audit: Pick<AuditLogStore, 'deleteOlderThan'>, retentionDays: number): Promise<{ deleted: number }> {
  return { deleted: retentionDays === 0 ? 0 : await audit.deleteOlderThan(retentionDays) };
}
