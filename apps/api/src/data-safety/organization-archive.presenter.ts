import { isoOrNull } from '../http/timestamps';
import type { ListedArchive } from '../organizations/organizations.service';
import type { OrganizationArchiveBody, OrganizationArchiveListBody } from './data-safety.responses';

export function presentOrganizationArchive(archive: ListedArchive): OrganizationArchiveBody {
  return {
    id: archive.id,
    organization_id: archive.orgId,
    file_name: archive.fileName,
    status: archive.status,
    size_bytes: archive.sizeBytes,
    sha256: archive.sha256,
    created_at: new Date(archive.createdAt).toISOString(),
    verified_at: isoOrNull(archive.verifiedAt),
    restore_command: archive.restoreCommand,
  };
}

export function presentOrganizationArchiveList(archives: ListedArchive[]): OrganizationArchiveListBody {
  return { items: archives.map(presentOrganizationArchive) };
}
