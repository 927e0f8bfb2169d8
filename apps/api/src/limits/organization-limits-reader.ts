import { effectiveLimits, type LimitOverrides, type OrganizationLimits } from '@orgms/common/limits/organization-limits';
import type { OrganizationLimitsRow, OrganizationLimitsStore } from '@orgms/common/limits/organization-limits-store';
import type { InvalidatedCache } from '../events/invalidated-cache';

/**
 * An organization's limits on the request path (the rate limits read them on every request, user
 * creation its quotas): its `organization_limits` row, cached per replica and dropped when a
 * `changed` message about the organization is heard (a PATCH, the quota sweep marking it).
 */
export class OrganizationLimitsReader {
  constructor(
    private readonly store: Pick<OrganizationLimitsStore, 'rowOf'>,
    private readonly defaults: OrganizationLimits,
    private readonly cache: InvalidatedCache<OrganizationLimitsRow>,
  ) {}

  rowOf(orgId: string): Promise<OrganizationLimitsRow> {
    return this.cache.get(orgId, () => this.store.rowOf(orgId));
  }

  async overridesOf(orgId: string): Promise<LimitOverrides> {
    return (await this.rowOf(orgId)).overrides;
  }

  async limitsOf(orgId: string): Promise<OrganizationLimits> {
    return effectiveLimits(this.defaults, await this.overridesOf(orgId));
  }
}
