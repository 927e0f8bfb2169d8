import type { AuditTarget } from '@orgms/common/audit/audit-log-store';
import { ConflictError, NotFoundError, UnauthorizedError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { SERVING_STATUSES } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { Actor } from '@orgms/common/request-context';
import type { PlatformAdmin } from '@orgms/common/sign-in/platform-admin.entity';
import type { PlatformAdminStore } from '@orgms/common/sign-in/platform-admin-store';
import type { RefreshSubject, RefreshTokenRecord, RefreshTokenStore, SessionVersions } from '@orgms/common/sign-in/refresh-token-store';
import { holdsTokenVersion } from '@orgms/common/sign-in/token-version';
import type { TenantUser } from '@orgms/common/users/tenant-user.entity';
import { TenantUserStore } from '@orgms/common/users/tenant-user-store';
import type { AuditService } from '../audit/audit.service';
import type { TenantDatabases } from '../tenancy/tenant-databases';
import type { LoginThrottle } from './login-throttle';
import { presentSession } from './sign-in.presenter';
import type { TokenBody } from './sign-in.responses';
import type { IssuedToken, TokenIssuer } from './tokens';

/** Who a session is for: the account as a login just verified it, or as a refresh re-reads it. */
export type SessionAccount = { kind: 'platform_admin'; admin: PlatformAdmin } | { kind: 'org_user'; org: Organization; user: TenantUser };

/** A login's (or a refresh's) answer: an access token, the refresh token that renews it, and who it is for. */
export type Session = IssuedToken & { refresh_token: string; refresh_expires_in: number; user: TokenBody['user'] };

/** A replay of a traded refresh token: `first` ended its family (and is audited), `repeated` found it ended already. */
export type ReuseOccurrence = 'first' | 'repeated';

/** One answer for every refresh token that cannot be traded, so it tells nothing about why. */
const REFRESH_REFUSED = 'This refresh token is not valid (expired, revoked or already used); log in again.';

export interface SessionsDeps {
  tokens: TokenIssuer;
  refreshTokens: Pick<RefreshTokenStore, 'issue' | 'find' | 'rotate' | 'revokeFamily'>;
  /** REFRESH_TOKEN_TTL in seconds: each refresh token's own lifetime. */
  refreshTtlSeconds: number;
  admins: Pick<PlatformAdminStore, 'get'>;
  organizations: Pick<OrganizationStore, 'findLive'>;
  tenants: Pick<TenantDatabases, 'read'>;
  audit: Pick<AuditService, 'recordAfter'>;
  /** A refresh token is a credential: refreshes count against the client address's login limit. */
  throttle: Pick<LoginThrottle, 'countAttempt'>;
}

/**
 * Sessions of platform admins and organization users alike: a login starts one (an access token
 * and a refresh token, the first of a new family); a refresh trades the refresh token for the
 * next pair; a logout ends the family. A refresh holds only while the account still holds the
 * token version, and an org user's organization the session generation, the family was issued
 * at, so whatever revokes access tokens (password change, deactivation, removal, a role change,
 * the organization's delete) revokes refresh tokens too, with no second rule.
 */
export class SessionsService {
  private readonly reuses: Record<ReuseOccurrence, number> = { first: 0, repeated: 0 };

  constructor(private readonly deps: SessionsDeps) {}

  /** Replays of traded refresh tokens this instance refused since it started (for /metrics). */
  reuseCounts(): Readonly<Record<ReuseOccurrence, number>> {
    return { ...this.reuses };
  }

  async start(account: SessionAccount): Promise<Session> {
    const refreshToken = await this.deps.refreshTokens.issue(subjectOf(account), versionsOf(account), this.deps.refreshTtlSeconds);
    return this.answer(account, refreshToken);
  }

  /**
   * A new pair for a live refresh token. A token that was already traded is being replayed, by
   * its owner's thief or by its owner after the thief: either way the whole family ends (both
   * must log in again). Only the replay that ended the family is audited, so replaying a stolen
   * token (or a race of many) cannot fill the audit log; every replay is counted.
   */
  async refresh(token: string, clientIp: string): Promise<Session> {
    const { refreshTokens } = this.deps;
    await this.deps.throttle.countAttempt(clientIp);
    const record = await refreshTokens.find(token);
    if (!record || record.state === 'revoked' || record.state === 'expired') throw new UnauthorizedError(REFRESH_REFUSED);
    if (record.state === 'used') return this.refuseReuse(record);
    const account = await this.currentAccount(record.subject);
    if (!account || !holdsTokenVersion(rowOf(account), record.tokenVersion) || versionsOf(account).sessionGeneration !== record.sessionGeneration) {
      await refreshTokens.revokeFamily(record.familyId);
      throw new UnauthorizedError(REFRESH_REFUSED);
    }
    const next = await refreshTokens.rotate(record, versionsOf(account), this.deps.refreshTtlSeconds);
    // Another request traded it between our read and our write (the same replay, seen late), or it
    // expired or was logged out meanwhile: ending the family is right in every case.
    if (!next) return this.refuseReuse(record);
    return this.answer(account, next);
  }

  /** Ends the token's family. Unknown and dead tokens end nothing and are not an error: the caller is logged out either way. */
  async logout(token: string): Promise<void> {
    const record = await this.deps.refreshTokens.find(token);
    if (!record || record.state === 'revoked') return;
    if (!(await this.deps.refreshTokens.revokeFamily(record.familyId))) return;
    await this.deps.audit.recordAfter({
      action: 'auth.logout',
      actor: actorOf(record.subject),
      orgId: orgOf(record.subject),
      target: targetOf(record.subject),
    });
  }

  private async refuseReuse(record: RefreshTokenRecord): Promise<never> {
    const first = await this.deps.refreshTokens.revokeFamily(record.familyId);
    this.reuses[first ? 'first' : 'repeated'] += 1;
    if (!first) throw new UnauthorizedError(REFRESH_REFUSED);
    await this.deps.audit.recordAfter({
      action: 'auth.refresh.reused',
      actor: null,
      orgId: orgOf(record.subject),
      target: targetOf(record.subject),
      details: { family_id: record.familyId },
    });
    throw new UnauthorizedError(REFRESH_REFUSED);
  }

  /**
   * The account as it is now; undefined once it is gone (removed, or its organization deleted). An
   * organization that exists but does not serve (provisioning, failed) answers 409, as its login does.
   */
  private async currentAccount(subject: RefreshSubject): Promise<SessionAccount | undefined> {
    try {
      if (subject.kind === 'platform_admin') return { kind: 'platform_admin', admin: await this.deps.admins.get(subject.id) };
      const org = await this.deps.organizations.findLive(subject.orgId);
      if (!org) return undefined;
      if (!SERVING_STATUSES.includes(org.status)) {
        throw new ConflictError(`Organization ${org.name} is ${org.status}; its users can log in once it is active.`, { organization_status: org.status });
      }
      return { kind: 'org_user', org, user: await this.deps.tenants.read(org, (db) => new TenantUserStore(db).get(subject.id)) };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private answer(account: SessionAccount, refreshToken: string): Session {
    const access =
      account.kind === 'platform_admin'
        ? this.deps.tokens.issue({ sub: account.admin.id, role: 'platform_admin', ver: account.admin.tokenVersion })
        : this.deps.tokens.issue({
            sub: account.user.id,
            role: account.user.role === 'admin' ? 'org_admin' : 'member',
            org: account.org.id,
            ver: account.user.tokenVersion,
            gen: account.org.sessionGeneration,
          });
    return presentSession(account, access, { token: refreshToken, expiresIn: this.deps.refreshTtlSeconds });
  }
}

function subjectOf(account: SessionAccount): RefreshSubject {
  return account.kind === 'platform_admin'
    ? { kind: 'platform_admin', id: account.admin.id }
    : { kind: 'org_user', id: account.user.id, orgId: account.org.id };
}

/** The account's row: what its token version and revocation are read from. */
function rowOf(account: SessionAccount): PlatformAdmin | TenantUser {
  return account.kind === 'platform_admin' ? account.admin : account.user;
}

/** What the account's tokens hold now: its token version and, for an org user, its organization's session generation. */
function versionsOf(account: SessionAccount): SessionVersions {
  return { tokenVersion: rowOf(account).tokenVersion, sessionGeneration: account.kind === 'org_user' ? account.org.sessionGeneration : 0 };
}

function actorOf(subject: RefreshSubject): Actor {
  return { kind: subject.kind, id: subject.id };
}

/** The account a session entry is about: a platform admin, or a user (of `orgOf`). */
function targetOf(subject: RefreshSubject): AuditTarget {
  return { type: subject.kind === 'platform_admin' ? 'platform_admin' : 'user', id: subject.id };
}

function orgOf(subject: RefreshSubject): string | null {
  return subject.kind === 'org_user' ? subject.orgId : null;
}
