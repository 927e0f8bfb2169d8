import type { OrganizationExport } from '@orgms/common/control-plane/organization-export-store';
import type { OrganizationExportBody } from '../openapi/response-schemas';
import { isoOrNull } from './timestamps';

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
