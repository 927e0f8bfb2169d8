import type { OrganizationBackup } from '@orgms/common/data-safety/organization-dump-store';
import type { Page } from '../http/pagination';
import { isoOrNull } from '../http/timestamps';
import type { OrganizationBackupBody, OrganizationBackupListBody } from './data-safety.responses';

export function presentOrganizationBackup(backup: OrganizationBackup): OrganizationBackupBody {
  return {
    id: backup.id,
    organization_id: backup.orgId,
    kind: backup.backupKind,
    status: backup.status,
    size_bytes: backup.sizeBytes,
    sha256: backup.sha256,
    created_at: new Date(backup.createdAt).toISOString(),
    finished_at: isoOrNull(backup.finishedAt),
    expires_at: isoOrNull(backup.expiresAt),
    restore_tested_at: isoOrNull(backup.restoreTestedAt),
  };
}

export function presentOrganizationBackupPage(page: Page<OrganizationBackup>): OrganizationBackupListBody {
  return { items: page.items.map(presentOrganizationBackup), next_cursor: page.nextCursor };
}
