import { UnauthorizedError } from '@orgms/common/errors';
import { dummyPasswordHash, verifyPassword } from '@orgms/common/sign-in/passwords';
import type { PlatformAdmin } from '@orgms/common/sign-in/platform-admin.entity';
import type { PlatformAdminStore } from '@orgms/common/sign-in/platform-admin-store';
import { type AccountAuthState, holdsTokenVersion } from '@orgms/common/sign-in/token-version';
import type { AuditService } from '../audit/audit.service';
import type { InvalidatedCache } from '../events/invalidated-cache';
import type { LoginThrottle } from './login-throttle';
import type { Session, SessionsService } from './sessions.service';
import { presentPlatformAdmin } from './sign-in.presenter';
import type { PlatformAdminBody } from './sign-in.responses';

export const INVALID_CREDENTIALS = 'The email or password is not correct.';

/** A platform admin's token state as cached per replica; `state` null: the admin no longer exists. */
export type CachedAuthState = { state: AccountAuthState | null };

/** Platform admins: login (bearer token or the operator pages' HTTP Basic), token checks, registration, who-am-I. */
export class AuthService {
  constructor(
    private readonly admins: PlatformAdminStore,
    private readonly sessions: Pick<SessionsService, 'start'>,
    private readonly audit: Pick<AuditService, 'recordAfter'>,
    private readonly throttle: LoginThrottle,
    private readonly bcryptRounds: number,
    /** This replica's copies of admins' token states, dropped on every change heard over pub/sub. */
    private readonly authStates?: Pick<InvalidatedCache<CachedAuthState>, 'get'>,
  ) {}

  /** A session for the admin, audited either way (the account tried, when there is one; never the email or password). */
  async loginPlatformAdmin(email: string, password: string, clientIp: string): Promise<Session> {
    const admin = await this.verifyCredentials(email, password, clientIp, (tried) =>
      this.audit.recordAfter({
        action: 'auth.login.failed',
        actor: null,
        target: tried && { type: 'platform_admin', id: tried.id },
        details: { ip: clientIp },
      }),
    );
    const actor = { kind: 'platform_admin' as const, id: admin.id };
    await this.audit.recordAfter({ action: 'auth.login.succeeded', actor, target: { type: 'platform_admin', id: admin.id }, details: { ip: clientIp } });
    return this.sessions.start({ kind: 'platform_admin', admin });
  }

  /**
   * Checks a platform admin's email and password, throttled per address and per account.
   * Unknown email, deactivated admin and wrong password all cost one bcrypt compare and give
   * the same 401, so neither the answer nor its timing tells which it was.
   */
  async verifyCredentials(
    email: string,
    password: string,
    clientIp: string,
    onFailure?: (tried: PlatformAdmin | null) => Promise<void>,
  ): Promise<PlatformAdmin> {
    await this.throttle.countAttempt(clientIp);
    const admin = await this.admins.findForLogin(email);
    const account = `platform:${admin?.id ?? email.trim().toLowerCase()}`;
    await this.throttle.assertAccountOpen(account);
    const matches = await verifyPassword(password, admin?.passwordHash ?? (await dummyPasswordHash(this.bcryptRounds)));
    if (!admin || !matches || !admin.isActive) {
      await this.throttle.recordFailure(account);
      await onFailure?.(admin);
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    return admin;
  }

  /** Whether a platform admin's token issued at `tokenVersion` still holds (checked on every request). */
  async isTokenCurrent(adminId: string, tokenVersion: number | undefined): Promise<boolean> {
    const read = async (): Promise<CachedAuthState> => ({ state: await this.admins.authState(adminId) });
    const { state } = this.authStates ? await this.authStates.get(adminId, read) : await read();
    return holdsTokenVersion(state, tokenVersion);
  }

  async registerPlatformAdmin(email: string, password: string): Promise<PlatformAdminBody> {
    return presentPlatformAdmin(await this.admins.create(email, password, this.bcryptRounds));
  }

  async describe(adminId: string): Promise<PlatformAdminBody> {
    return presentPlatformAdmin(await this.admins.get(adminId));
  }
}
