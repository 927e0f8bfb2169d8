import type { Organization } from '@orgms/common/organizations/organization.entity';
import { type OrganizationRepresentation, presentOrganization } from '@orgms/common/organizations/organization-representation';
import type { Page } from '../http/pagination';
import type { OrganizationBody, OrganizationListBody, OrganizationStatusBody } from '../openapi/response-schemas';

/**
 * The organization is rendered in libs/common, since webhooks carry it too. This compiles only
 * while the `Organization` schema describes exactly that representation: a member added, dropped
 * or retyped on either side fails here.
 */
export type SchemaDescribesRepresentation = MustHold<Same<OrganizationBody, OrganizationRepresentation>>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type MustHold<T extends true> = T;

export { presentOrganization };

export function presentStatus(org: Organization): OrganizationStatusBody {
  return {
    id: org.id,
    status: org.status,
    step: org.step,
    attempts: org.attempts,
    last_error: org.lastError,
    database_server: org.databaseServer ?? null,
    updated_at: org.updatedAt.toISOString(),
  };
}

export function presentOrganizationPage(page: Page<Organization>): OrganizationListBody {
  return { items: page.items.map(presentOrganization), next_cursor: page.nextCursor };
}
