import type { TenancyConfig } from '@orgms/common/config';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import { findOrphans, type Orphan } from '@orgms/common/tenancy/orphans';

/**
 * Databases without an organization and active organizations without a database, compared on
 * request (the worker's reconciler finds the same on its schedule). Never drops anything.
 */
export class OrphansService {
  constructor(
    private readonly deps: { tenancy: Pick<TenancyConfig, 'serverUrl' | 'databasePrefix'>; organizations: Pick<OrganizationStore, 'databaseOwners'> },
  ) {}

  list(): Promise<Orphan[]> {
    return findOrphans(this.deps.tenancy, this.deps.organizations);
  }
}
