import type { Organization } from './organization.entity';
import type { OrganizationMetadata } from './organization-metadata';
import type { OrganizationStatus } from './organization-status';

/**
 * The public shape of an organization (snake_case; no database name, no hashes): what the API
 * answers and what a webhook carries. Rendered here, in code, for both, so they cannot differ;
 * the API's `Organization` schema must describe exactly this (checked where the API presents it).
 */
export interface OrganizationRepresentation {
  id: string;
  name: string;
  slug: string;
  external_id: string | null;
  metadata: OrganizationMetadata;
  status: OrganizationStatus;
  step: string | null;
  last_error: string | null;
  admin_email: string;
  schema_version: string | null;
  database_server: string | null;
  database_role: 'own' | 'shared';
  deleted_at: string | null;
  purge_after: string | null;
  created_at: string;
  updated_at: string;
}

export function presentOrganization(org: Organization): OrganizationRepresentation {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    external_id: org.externalId ?? null,
    metadata: org.metadata ?? {},
    status: org.status,
    step: org.step,
    last_error: org.lastError,
    admin_email: org.adminEmail,
    schema_version: org.schemaVersion,
    database_server: org.databaseServer ?? null,
    database_role: org.databaseRole ?? 'shared',
    deleted_at: org.deletedAt?.toISOString() ?? null,
    // The grace period's end means something only while it runs.
    purge_after: org.status === 'deleted' ? (org.purgeAfter?.toISOString() ?? null) : null,
    created_at: org.createdAt.toISOString(),
    updated_at: org.updatedAt.toISOString(),
  };
}
