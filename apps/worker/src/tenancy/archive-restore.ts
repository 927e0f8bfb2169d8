import { join } from 'node:path';
import type { OrganizationArchiveStore } from '@orgms/common/control-plane/organization-archive-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import { redactPasswords, runPgRestore } from '@orgms/common/process/pg-dump';
import { JobFailure } from '../job-failure';
import { verifyDumpFile } from './dump-file';

/** How much of pg_restore's error output reaches `last_error`. */
const MAX_TOOL_ERROR = 500;

/**
 * Restores a recorded archive (ARCHIVE_DIR) into an empty database: what provisioning does instead
 * of cloning the template for an organization recreated by `npm run org:restore`. The file is
 * verified first (readable, and the size and SHA-256 recorded), so a damaged archive never
 * becomes a half-restored organization.
 */
export class ArchiveRestorer {
  constructor(
    private readonly archives: Pick<OrganizationArchiveStore, 'get'>,
    private readonly dir: string,
  ) {}

  async restoreInto(archiveId: string, adminUrl: string, databaseName: string): Promise<void> {
    const archive = await this.archives.get(archiveId);
    const path = join(this.dir, archive.fileName);
    await verifyDumpFile(path, archive).catch((error) => {
      throw new JobFailure(`archive ${archive.fileName}: ${(error as Error).message}`, { permanent: true, cause: error });
    });
    const url = withDatabase(adminUrl, databaseName);
    // Objects are created as the connecting role: the organization's own role is made their owner afterwards.
    const restored = await runPgRestore(['--no-owner', '--no-acl', '--exit-on-error', '-d', url, path]);
    if (restored.code !== 0) {
      throw new JobFailure(`pg_restore failed (exit ${restored.code}): ${redactPasswords(restored.errors, [url], MAX_TOOL_ERROR)}`, { permanent: false });
    }
  }
}
