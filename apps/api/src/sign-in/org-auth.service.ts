import { ConflictError, UnauthorizedError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { SERVING_STATUSES } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { dummyPasswordHash, verifyPassword } from '@orgms/common/sign-in/passwords';
import { TenantUserStore } from '@orgms/common/users/tenant-user-store';
import type { AuditService } from '../audit/audit.service';
import type { TenantDatabases } from '../tenancy/tenant-databases';
import { INVALID_CREDENTIALS } from './auth.service';
import type { LoginThrottle } from './login-throttle';
import type { Session, SessionsService } from './sessions.service';

export interface OrgLoginInput {
  organizationName?: string;
  organizationId?: string;
  email: string;
  password: string;
}

/** Login of organization users (`POST /admin/login`), against the user table in the org's own database. */
export class OrgAuthService {
  constructor(
    private readonly organizations: OrganizationStore,
    private readonly tenants: TenantDatabases,
    private readonly sessions: Pick<SessionsService, 'start'>,
    private readonly audit: Pick<AuditService, 'recordAfter'>,
    private readonly throttle: LoginThrottle,
    private readonly bcryptRounds: number,
  ) {}

  /**
   * Unknown organization, unknown user, inactive user and wrong password all cost one bcrypt
   * compare and answer the same 401, so the answer does not tell which one it was. An
   * organization that exists but does not serve (not active, nor moving) answers 409 with its
   * status (its database may not exist yet). While it moves, logins work but are not recorded. Throttled per address, and per account as resolved: the organization's id
   * and the email, whichever way the client named the organization.
   */
  async login(input: OrgLoginInput, clientIp: string): Promise<Session> {
    await this.throttle.countAttempt(clientIp);
    const org = await this.findOrganization(input);
    if (org && !SERVING_STATUSES.includes(org.status)) {
      throw new ConflictError(`Organization ${org.name} is ${org.status}; its users can log in once it is active.`, { organization_status: org.status });
    }
    const email = input.email.trim().toLowerCase();
    const account = org ? `org:${org.id}:${email}` : `unknown-org:${input.organizationId ?? input.organizationName?.trim().toLowerCase()}:${email}`;
    await this.throttle.assertAccountOpen(account);
    const user = org ? await this.tenants.read(org, (db) => new TenantUserStore(db).findForLogin(input.email)) : null;
    const matches = await verifyPassword(input.password, user?.passwordHash ?? (await dummyPasswordHash(this.bcryptRounds)));
    if (!org || !user || !matches || !user.isActive) {
      await this.throttle.recordFailure(account);
      // The organization and the account tried, when they exist; never the email or the password.
      await this.audit.recordAfter({
        action: 'auth.login.failed',
        actor: null,
        orgId: org?.id ?? null,
        target: user && { type: 'user', id: user.id },
        details: { ip: clientIp },
      });
      throw new UnauthorizedError(INVALID_CREDENTIALS);
    }
    if (org.status === 'active') user.lastLoginAt = await this.tenants.write(org, (db) => new TenantUserStore(db).recordLogin(user.id));
    const actor = { kind: 'org_user' as const, id: user.id };
    await this.audit.recordAfter({ action: 'auth.login.succeeded', actor, orgId: org.id, target: { type: 'user', id: user.id }, details: { ip: clientIp } });
    return this.sessions.start({ kind: 'org_user', org, user });
  }

  private async findOrganization(input: OrgLoginInput): Promise<Organization | undefined> {
    // By id, a deleted organization is found (409 with its status, below); by name it is not: its name is free.
    if (input.organizationId) return this.organizations.findUnpurged(input.organizationId);
    if (input.organizationName) return this.organizations.findLiveByName(input.organizationName);
    return undefined;
  }
}
