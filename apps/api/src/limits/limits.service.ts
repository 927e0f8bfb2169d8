import { effectiveLimits, type OrganizationLimits, type RequestClass } from '@orgms/common/limits/organization-limits';
import type { OrganizationLimitsStore } from '@orgms/common/limits/organization-limits-store';
import { isOverQuota } from '@orgms/common/limits/quotas';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { SERVING_STATUSES } from '@orgms/common/organizations/organization-status';
import { TenantUserStore } from '@orgms/common/users/tenant-user-store';
import type { AuditService } from '../audit/audit.service';
import type { TenantDatabases } from '../tenancy/tenant-databases';
import { type LimitsView, limitChangesOf } from './limits.presenter';
import type { LimitChangesBody } from './limits.schemas';

export interface LimitsServiceDeps {
  store: Pick<OrganizationLimitsStore, 'rowOf' | 'setOverrides'>;
  defaults: OrganizationLimits;
  windowMs: number;
  tenants: Pick<TenantDatabases, 'read'>;
  audit: Pick<AuditService, 'recordAfter'>;
  /** Requests of the organization counted in the current window, by class (the rate limits know them). */
  requestUsage?: (orgId: string) => Promise<Partial<Record<RequestClass, number>>>;
  /** Brings the organization's database role to its limits (the database limits' job); called after a database limit changed. */
  applyDatabaseLimits?: (orgId: string) => Promise<void>;
}

/** GET and PATCH of an organization's limits; callers have authorized the request for `org`. */
export class LimitsService {
  constructor(private readonly deps: LimitsServiceDeps) {}

  async view(org: Organization): Promise<LimitsView> {
    const { store, defaults } = this.deps;
    const [row, requests, users] = await Promise.all([
      store.rowOf(org.id),
      this.deps.requestUsage?.(org.id) ?? {},
      // Its users can only be counted while its database serves.
      SERVING_STATUSES.includes(org.status) ? this.deps.tenants.read(org, (db) => new TenantUserStore(db).count()) : null,
    ]);
    const limits = effectiveLimits(defaults, row.overrides);
    const overQuota = isOverQuota(limits.quotas, { users: users ?? 0, databaseBytes: row.usage.databaseBytes });
    return { orgId: org.id, windowMs: this.deps.windowMs, limits, overrides: row.overrides, requests, users, usage: row.usage, overQuota };
  }

  async change(org: Organization, body: LimitChangesBody): Promise<void> {
    await this.deps.store.setOverrides(org.id, limitChangesOf(body));
    await this.deps.audit.recordAfter({
      action: 'organization.limits_changed',
      orgId: org.id,
      target: { type: 'organization', id: org.id },
      details: { ...body },
    });
    if (body.database) await this.deps.applyDatabaseLimits?.(org.id);
  }
}
