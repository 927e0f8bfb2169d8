import { join } from 'node:path';
import type { OrganizationArchive, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { redactPasswords, runPgRestore } from '@orgms/common/data-safety/pg-dump';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Logger } from '@orgms/common/logger';
import { JobFailure } from '../job-failure';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { verifyDumpFile } from './dump-file';

/** How much of pg_restore's error output reaches `last_error`. */
const MAX_TOOL_ERROR = 500;

const RESTORE_STEPS = ['verify_archive', 'restore'] as const;
type RestoreStep = (typeof RESTORE_STEPS)[number];

/** One restore: the recorded archive (or backup), its file, and the database it fills. */
interface RestoreRun {
  archive: OrganizationArchive;
  path: string;
  url: string;
}

/**
 * Restores a recorded archive (ARCHIVE_DIR) or backup (BACKUP_DIR) into an empty database: what
 * provisioning does instead of cloning the template for an organization recreated by
 * `npm run org:restore` or made from a backup (`POST …/backups/{backupId}/restore`, mode
 * `new_organization`). The file is verified first (readable, and the size and SHA-256 recorded), so
 * a damaged file never becomes a half-restored organization.
 */
export class ArchiveRestorer {
  /** Records nothing itself: it runs inside provisioning's create_database step, which records the failure. */
  readonly pipeline: Pipeline<RestoreRun, RestoreStep> = {
    name: 'archive_restore',
    order: RESTORE_STEPS,
    steps: {
      verify_archive: {
        // A damaged archive stays damaged: no retry can fix it.
        run: ({ archive, path }) =>
          verifyDumpFile(path, archive).catch((error) => {
            throw new JobFailure(`archive ${archive.fileName}: ${(error as Error).message}`, { permanent: true, cause: error });
          }),
      },
      restore: {
        run: async ({ path, url }) => {
          // Objects are created as the connecting role: the organization's own role is made their owner afterwards.
          const restored = await runPgRestore(['--no-owner', '--no-acl', '--exit-on-error', '-d', url, path]);
          if (restored.code !== 0) {
            throw new JobFailure(`pg_restore failed (exit ${restored.code}): ${redactPasswords(restored.errors, [url], MAX_TOOL_ERROR)}`, { permanent: false });
          }
        },
      },
    },
  };

  constructor(
    private readonly dumps: Pick<OrganizationDumpStore, 'getRestoreSource'>,
    /** ARCHIVE_DIR and BACKUP_DIR, absolute: where each kind's files are. */
    private readonly dirs: { archive: string; backup: string },
    private readonly logger: Logger,
  ) {}

  async restoreInto(dumpId: string, adminUrl: string, databaseName: string): Promise<void> {
    const archive = await this.dumps.getRestoreSource(dumpId);
    const dir = archive.kind === 'backup' ? this.dirs.backup : this.dirs.archive;
    const run = { archive, path: join(dir, archive.fileName), url: withDatabase(adminUrl, databaseName) };
    // Whether a failure is final is for the provisioning run around it to say.
    await runPipeline(this.pipeline, run, { logger: this.logger, isLastAttempt: false });
  }
}
