import type { OrganizationExport } from '@orgms/common/data-safety/organization-export-store';
import { isoOrNull } from '../http/timestamps';
import type { OrganizationExportBody } from './data-safety.responses';

export function presentOrganizationExport(exported: OrganizationExport): OrganizationExportBody {
  return {
    id: exported.id,
    organization_id: exported.orgId,
    status: exported.status,
    size_bytes: exported.sizeBytes,
    sha256: exported.sha256,
    error: exported.error,
    created_at: new Date(exported.createdAt).toISOString(),
    finished_at: isoOrNull(exported.finishedAt),
    expires_at: isoOrNull(exported.expiresAt),
  };
}
