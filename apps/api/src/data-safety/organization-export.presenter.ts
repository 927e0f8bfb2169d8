import type { OrganizationExport } from '@orgms/common/data-safety/organization-dump-store';
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

/** One export as stored, from which the API document's export examples are rendered above. */
const queued: OrganizationExport = {
  id: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
  orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  kind: 'export',
  backupKind: null,
  status: 'queued',
  databaseName: null,
  fileName: null,
  sizeBytes: null,
  sha256: null,
  manifest: null,
  error: null,
  requestId: null,
  createdAt: new Date('2026-11-22T08:00:00.000Z'),
  finishedAt: null,
  verifiedAt: null,
  expiresAt: null,
  restoreTestedAt: null,
};

/** The document's examples of an export (components.examples), so they cannot drift from the answers. */
export const exportExamples = {
  QueuedExport: presentOrganizationExport(queued),
  ReadyExport: presentOrganizationExport({
    ...queued,
    status: 'ready',
    sizeBytes: 48213,
    sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    finishedAt: new Date('2026-11-22T08:00:01.200Z'),
    expiresAt: new Date('2026-11-23T08:00:01.200Z'),
  }),
};
