import { DumpInProgressError, type OrganizationBackup, type OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { RESTORE_STEPS, type RestoreStep } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { markerFor, replacedNameFor, stagingNameFor } from '@orgms/common/tenancy/database-names';
import type { OrganizationServers } from '../fleet/organization-servers';
import { JobFailure } from '../job-failure';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { DatabaseAdmin } from '../tenancy/database-admin';
import type { TenantRoles } from '../tenancy/tenant-roles';
import { stopWrites, type WriteStopDeps } from '../tenancy/write-stop';
import type { ArchiveRestorer } from './archive-restore';
import type { OrganizationDumpsService } from './organization-dumps.service';
import { manifestDifferencesAt } from './restore-drills';

export interface RestoreOptions {
  requestId: string;
  /** When true a failure is final: before the swap the restore is rolled back and the organization keeps its data. */
  isLastAttempt: boolean;
}

export type RestoreOutcome = 'restored' | 'skipped';

export interface BackupRestoreDeps extends WriteStopDeps {
  store: OrganizationStore;
  dumps: Pick<OrganizationDumpStore, 'create' | 'get'>;
  /** Takes the `pre_restore` backup with the dump pipeline of every backup. */
  backups: Pick<OrganizationDumpsService, 'dump'>;
  /** Verifies the backup's file and restores it into the staging database. */
  restorer: Pick<ArchiveRestorer, 'restoreInto'>;
  servers: Pick<OrganizationServers, 'of'>;
  roles: Pick<TenantRoles, 'ownCopy'>;
  logger: Logger;
  /** Called before each step; tests use it to hold or interrupt a restore at a chosen point. */
  beforeStep?: (step: RestoreStep, orgId: string) => Promise<void> | void;
}

/** One in-place restore: the organization (`restoring`), the backup replacing its data, and its server. */
interface RestoreRun {
  org: Organization;
  backup: OrganizationBackup;
  requestId: string;
  isLastAttempt: boolean;
  server: DatabaseServer;
  admin: DatabaseAdmin;
}

/**
 * Replaces an organization's data with a backup's, in place (docs/api/data-safety.md, "Restores"):
 * stop_writes, pre_restore_backup (so the restore itself can be undone), restore (into the
 * staging database `<database>_new`), verify (row counts against the backup's manifest), swap
 * (under the organization's lock: the live database renamed to `<database>_old`, the marked
 * staging one renamed into place), drop_old (then `active`). Which step a resumed run starts at
 * is read from the databases themselves, so a crash anywhere ends on the old data or on the
 * restored data, with one database and no staging copy left.
 */
export class BackupRestoresService {
  /**
   * Before the swap a final failure is rolled back: the staging copy is dropped and the old data
   * writable again, `active`. From the swap on (the old database has been renamed away) nothing is
   * rolled back: the swap and the drop converge when run again.
   */
  readonly pipeline: Pipeline<RestoreRun, RestoreStep> = {
    name: 'restore',
    order: RESTORE_STEPS,
    steps: {
      stop_writes: {
        run: ({ org, admin }) => stopWrites(this.deps, org, admin),
        compensate: ({ org, admin }) => admin.setReadOnly(org.databaseName, false),
      },
      pre_restore_backup: { run: (run) => this.backUpCurrentData(run) },
      restore: {
        run: async ({ org, backup, server, admin }) => {
          const staging = stagingNameFor(org.databaseName);
          // A staging copy of an earlier attempt may be half restored: each attempt starts from an empty one.
          await admin.dropDatabaseIfExists(staging);
          await admin.createDatabase(staging);
          await this.deps.restorer.restoreInto(backup.id, server.adminUrl, staging);
          // pg_restore made the server's admin role the owner: the organization's own role takes it, as after a move.
          await this.deps.roles.ownCopy(org, server, staging);
        },
        compensate: ({ org, admin }) => admin.dropDatabaseIfExists(stagingNameFor(org.databaseName)),
      },
      verify: {
        run: async ({ org, backup, server }) => {
          const differences = await manifestDifferencesAt(withDatabase(server.adminUrl, stagingNameFor(org.databaseName)), backup.manifest);
          // The file was verified before the restore: other counts will not change by trying again.
          if (differences.length > 0)
            throw new JobFailure(`the restored rows differ from the backup's manifest: ${differences.join('; ')}`, { permanent: true });
        },
      },
      swap: { run: (run) => this.swap(run) },
      drop_old: {
        run: async ({ org, admin, backup, requestId }) => {
          const outcome = await admin.dropDatabase(org.id, replacedNameFor(org.databaseName));
          await this.deps.store.transition(org.id, 'active', {
            onlyFrom: ['restoring'],
            step: 'drop_old',
            requestId,
            detail: `restored from backup ${backup.id}`,
            patch: { restoringBackupId: null, lastError: null },
          });
          this.deps.events.publish({ type: 'evict', orgId: org.id });
          return outcome;
        },
      },
    },
    resumeAt: async ({ org, admin }) => {
      const replaced = (await admin.markerOf(replacedNameFor(org.databaseName))) !== undefined;
      if (replaced)
        return (await admin.markerOf(stagingNameFor(org.databaseName))) === undefined && (await admin.holds(org.id, org.databaseName)) ? 'drop_old' : 'swap';
      if (org.preRestoreBackupId && (await this.deps.dumps.get('backup', org.id, org.preRestoreBackupId)).status === 'verified') return 'restore';
      return 'stop_writes';
    },
    enter: ({ org, requestId }, step) => this.deps.store.recordStep(org.id, 'restoring', { step, requestId }),
    // Once the live database has been renamed away, the restored one is the way forward.
    canRollBack: async ({ org, admin }) => (await admin.markerOf(replacedNameFor(org.databaseName))) === undefined,
    recordFailure: async ({ org, requestId }, { step, failure, final, rolledBack }) => {
      const { store, events } = this.deps;
      if (final && rolledBack) {
        await store.transition(org.id, 'active', {
          onlyFrom: ['restoring'],
          step: null,
          detail: `restore rolled back: ${failure.message}`,
          requestId,
          patch: { restoringBackupId: null, lastError: failure.message },
        });
        events.publish({ type: 'evict', orgId: org.id });
        return;
      }
      // Retried, or (past the swap) carried on by the stuck-organizations sweep.
      await store.recordStep(org.id, 'restoring', { step, detail: `will retry: ${failure.message}`, requestId, patch: { lastError: failure.message } });
    },
  };

  constructor(private readonly deps: BackupRestoreDeps) {}

  async restore(orgId: string, options: RestoreOptions): Promise<RestoreOutcome> {
    const { store, servers, dumps, logger, beforeStep } = this.deps;
    const first = await store.get(orgId);
    if (first.status !== 'restoring') {
      logger.info('nothing to restore', { status: first.status });
      return 'skipped';
    }
    const server = await servers.of(first);
    const admin = await DatabaseAdmin.connect(server.adminUrl);
    try {
      // One restorer per organization: a re-run (or the sweep's job) waits for the one running.
      return await admin.withLock(`restore:${orgId}`, async () => {
        const org = await store.get(orgId);
        if (org.status !== 'restoring' || !org.restoringBackupId) {
          logger.info('nothing to restore', { status: org.status });
          return 'skipped';
        }
        const backup = await dumps.get('backup', orgId, org.restoringBackupId);
        const run: RestoreRun = { org, backup, requestId: options.requestId, isLastAttempt: options.isLastAttempt, server, admin };
        const started = Date.now();
        await runPipeline(this.pipeline, run, {
          logger,
          isLastAttempt: options.isLastAttempt,
          beforeStep: beforeStep && ((step) => beforeStep(step, orgId)),
        });
        logger.info('organization restored from a backup', { backupId: backup.id, ms: Date.now() - started });
        return 'restored';
      });
    } finally {
      await admin.close();
    }
  }

  /**
   * The `pre_restore` backup of the data about to be replaced, remembered on the organization so a
   * resumed run keeps it. A failed one is replaced by a new one; an open manual or scheduled
   * backup is waited for (one backup per organization at a time).
   */
  private async backUpCurrentData(run: RestoreRun): Promise<string> {
    const { store, dumps, backups } = this.deps;
    const { org, requestId } = run;
    let id = org.preRestoreBackupId;
    const kept = id ? await dumps.get('backup', org.id, id) : undefined;
    if (kept?.status === 'verified') return kept.id;
    if (!kept || kept.status === 'failed' || kept.status === 'expired') {
      try {
        id = (await dumps.create('backup', org.id, requestId, 'pre_restore')).id;
      } catch (error) {
        if (error instanceof DumpInProgressError) throw new JobFailure(`backup ${error.dumpId} is open; waiting for it to finish`, { permanent: false });
        throw error;
      }
      run.org = await store.recordStep(org.id, 'restoring', {
        step: 'pre_restore_backup',
        requestId,
        detail: `backup ${id}`,
        patch: { preRestoreBackupId: id },
      });
    }
    await backups.dump('backup', org.id, id as string, { requestId, isLastAttempt: run.isLastAttempt });
    const taken = await dumps.get('backup', org.id, id as string);
    if (taken.status !== 'verified') throw new JobFailure(`the pre-restore backup ${taken.id} is ${taken.status}`, { permanent: false });
    return taken.id;
  }

  /**
   * Under the organization's lock (the one provisioning, moves and drops take): the staging copy
   * is marked, the live database renamed away (its sessions ended) and the staging copy renamed
   * into place. Each rename is atomic, and a re-run finds where it stopped: between the two
   * renames no database has the name (requests answer 503 meanwhile), never two.
   */
  private async swap({ org, admin }: RestoreRun): Promise<void> {
    const staging = stagingNameFor(org.databaseName);
    const replaced = replacedNameFor(org.databaseName);
    await admin.withLock(org.id, async () => {
      if ((await admin.markerOf(staging)) === undefined) return; // swapped already
      await admin.setMarker(staging, markerFor(org.id));
      if (await admin.holds(org.id, org.databaseName)) {
        // A replaced database of an earlier restore that was never dropped goes first.
        await admin.dropDatabase(org.id, replaced);
        this.deps.events.publish({ type: 'evict', orgId: org.id });
        await admin.renameInUse(org.databaseName, replaced);
      }
      await admin.rename(staging, org.databaseName);
    });
    this.deps.events.publish({ type: 'evict', orgId: org.id });
    await this.deps.pgbouncer?.reconnect(org.databaseName);
  }
}
