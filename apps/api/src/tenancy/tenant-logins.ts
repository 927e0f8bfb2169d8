import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { DatabaseLogin } from '@orgms/common/fleet/server-urls';
import type { TenantRoleStore } from '@orgms/common/fleet/tenant-role-store';
import type { Logger } from '@orgms/common/logger';

/** How long "no role of its own yet" is believed before the control database is asked again. */
const SHARED_RECHECK_MS = 60_000;

/**
 * Which login the API's connections to an organization database use: the organization's own
 * role once it has one (docs/operations/tenant-databases.md, "Database roles"), else the server's role. An organization's credentials never
 * change once made, so they are kept for the life of the process; "none yet" is asked again after
 * a minute, or at once when the worker gives the organization its role (it publishes `evict`,
 * which calls `forget`). Falling back to the shared role is logged once per organization.
 */
export class TenantLogins {
  private readonly known = new Map<string, { login: DatabaseLogin | undefined; at: number }>();
  private readonly reported = new Set<string>();

  constructor(
    private readonly deps: {
      roles: Pick<TenantRoleStore, 'grantedCredentials'>;
      logger?: Logger;
    },
  ) {}

  async of(orgId: string, server: Pick<DatabaseServer, 'name' | 'tenantRoles'>): Promise<DatabaseLogin | undefined> {
    if (!server.tenantRoles) {
      this.reportShared(orgId, server, 'the server was registered without tenant roles');
      return undefined;
    }
    const cached = this.known.get(orgId);
    if (cached && (cached.login || Date.now() - cached.at < SHARED_RECHECK_MS)) return cached.login;
    const credentials = await this.deps.roles.grantedCredentials(orgId);
    const login = credentials && { user: credentials.roleName, password: credentials.password };
    this.known.set(orgId, { login, at: Date.now() });
    if (!login) this.reportShared(orgId, server, 'it has no role of its own yet (a fleet migration run gives it one)');
    return login;
  }

  /** The next connection asks again (the organization just got its role, or was deleted). */
  forget(orgId: string): void {
    this.known.delete(orgId);
    this.reported.delete(orgId);
  }

  private reportShared(orgId: string, server: Pick<DatabaseServer, 'name'>, reason: string): void {
    if (this.reported.has(orgId)) return;
    this.reported.add(orgId);
    this.deps.logger?.warn('organization database reached as the shared service role', { orgId, server: server.name, reason });
  }
}
