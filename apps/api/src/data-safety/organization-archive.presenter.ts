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

/** One purge's archive as stored, from which the API document's archive examples are rendered above. */
const purged: ListedArchive = {
  id: '7c1d2e3f-4a5b-4c6d-8e7f-901234567890',
  orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  kind: 'archive',
  backupKind: null,
  databaseName: 'org_4f0c2a7e9d1b4c1e8f001234567890ab',
  fileName: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump',
  status: 'verified',
  sizeBytes: 48213,
  sha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  manifest: { 'public.users': 1, 'public.tenant_migrations': 2 },
  error: null,
  requestId: null,
  createdAt: new Date('2026-12-05T04:10:00.123Z'),
  finishedAt: null,
  verifiedAt: new Date('2026-12-05T04:10:00.480Z'),
  expiresAt: null,
  restoreTestedAt: null,
  restoreCommand: 'npm run org:restore -- --archive /srv/orgms/var/archives/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump',
};

/** The document's examples of an archive list (components.examples), so they cannot drift from the answers. */
export const archiveExamples = {
  PurgedOrganizationArchives: { summary: 'A purged organization', value: presentOrganizationArchiveList([purged]) },
  NoOrganizationArchives: { summary: 'An organization never purged', value: presentOrganizationArchiveList([]) },
};
