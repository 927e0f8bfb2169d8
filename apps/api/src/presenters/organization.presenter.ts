import type { Organization } from '@orgms/common/entities/organization.entity';
import type { OrganizationBody, OrganizationListBody, OrganizationStatusBody } from '../openapi/response-schemas';
import type { Page } from '../services/pagination';

/** The public shape of an organization (snake_case, DESIGN §5); no database name, no hashes. */
export function presentOrganization(org: Organization): OrganizationBody {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    status: org.status,
    step: org.step,
    last_error: org.lastError,
    admin_email: org.adminEmail,
    schema_version: org.schemaVersion,
    database_server: org.databaseServer ?? null,
    database_role: org.databaseRole ?? 'shared',
    deleted_at: org.deletedAt?.toISOString() ?? null,
    purge_after: org.status === 'deleted' ? (org.purgeAfter?.toISOString() ?? null) : null,
    created_at: org.createdAt.toISOString(),
    updated_at: org.updatedAt.toISOString(),
  };
}

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
