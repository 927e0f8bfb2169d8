import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OrganizationArchive, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { PURGE_STEPS, type PurgeStep } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { verifyDumpFile, writeDump } from '../data-safety/dump-file';
import type { OrganizationServers } from '../fleet/organization-servers';
import type { PgBouncerDatabases } from '../fleet/pgbouncer-databases';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { DatabaseAdmin } from '../tenancy/database-admin';
import type { TenantRoles } from '../tenancy/tenant-roles';

export interface PurgeDeps {
  servers: OrganizationServers;
  pgbouncer?: PgBouncerDatabases;
  store: OrganizationStore;
  /** The dumps of kind archive. */
  archives: Pick<OrganizationDumpStore, 'recordArchive' | 'markVerified' | 'getArchive' | 'latestVerifiedArchive' | 'listArchives'>;
  /** The organization's own login role goes with its database. */
  roles: Pick<TenantRoles, 'dropFrom'>;
  events: OrganizationEventPublisher;
  logger: Logger;
  /** ARCHIVE_DIR, absolute. */
  dir: string;
  /** Called before each step; tests use it to interrupt a purge at a chosen point. */
  beforeStep?: (step: PurgeStep, orgId: string) => Promise<void> | void;
}

export type PurgeOutcome = 'purged' | 'skipped';

/** One purge run: the organization, and what its steps found, opened and wrote. */
interface PurgeRun {
  org: Organization;
  requestId: string;
  server?: DatabaseServer;
  admin?: DatabaseAdmin;
  /** Whether the organization's database is still there. */
  held?: boolean;
  /** The archive written by this run, not yet verified. */
  written?: OrganizationArchive;
  /** The verified archive the database is dropped after. */
  archive?: OrganizationArchive;
}

/** One file per organization and time, made of our own id and a UTC timestamp: `<orgId>-20261205T034110123Z.dump`. */
export function archiveFileName(orgId: string, at: Date): string {
  return `${orgId}-${at.toISOString().replace(/[-:.]/g, '')}.dump`;
}

/**
 * Turns a `purging` organization into a `purged` tombstone, never losing its data: its database
 * is archived (`pg_dump -Fc` into ARCHIVE_DIR, size and SHA-256 recorded), the archive is read
 * back (`pg_restore --list`, and hashed again from disk), and only an organization with a
 * verified archive made after its deletion has its database dropped. A crash at any point
 * leaves either the database or a verified archive (or both); a re-run reuses a verified
 * archive and carries on. A failure (a full disk, say) keeps the database, records the reason
 * in `last_error`, and fails the job loudly; the reconciler tries again later.
 */
export class PurgeService {
  /**
   * Resumes from the last durable step: a verified archive made since the deletion (the data
   * cannot have changed since) is not written again, and a database already gone is only
   * finished (a leftover staging database, the role, the tombstone). Nothing is undone: a
   * failure keeps the database and records the reason, and the purge is tried again.
   */
  readonly pipeline: Pipeline<PurgeRun, PurgeStep> = {
    name: 'purge',
    order: PURGE_STEPS,
    steps: {
      archive: { run: (run) => this.archive(run) },
      verify_archive: {
        run: async (run) => {
          const { archives, dir } = this.deps;
          const written = run.written as OrganizationArchive;
          await verifyDumpFile(join(dir, written.fileName), written);
          await archives.markVerified(written.id);
          run.archive = await archives.getArchive(written.id);
        },
      },
      drop_database: { run: (run) => this.dropDatabase(run) },
    },
    resumeAt: async (run) => {
      const { org } = run;
      // Nothing may use the database while it is archived and dropped: pools go on every API replica.
      this.deps.events.publish({ type: 'evict', orgId: org.id });
      run.server = await this.deps.servers.of(org);
      run.admin = await DatabaseAdmin.connect(run.server.adminUrl);
      run.held = await run.admin.holds(org.id, org.databaseName);
      if (!run.held) return 'drop_database';
      run.archive = await this.deps.archives.latestVerifiedArchive(org.id, org.deletedAt ?? org.updatedAt);
      return run.archive ? 'drop_database' : 'archive';
    },
    enter: async ({ org, requestId, held, written, archive }, step) => {
      // A database already gone (a re-run after the drop, or none was ever made) shows no step.
      if (!held) return;
      const detail = {
        archive: null,
        verify_archive: written ? `archive ${written.fileName} written (${written.sizeBytes} bytes)` : null,
        drop_database: archive ? `archive ${archive.fileName} verified` : null,
      }[step];
      await this.deps.store.recordStep(org.id, 'purging', { step, requestId, detail });
    },
    recordFailure: ({ org, requestId }, { step, failure }) =>
      this.deps.store.recordStep(org.id, 'purging', { step, requestId, detail: failure.message, patch: { lastError: failure.message } }),
  };

  constructor(private readonly deps: PurgeDeps) {}

  async purge(orgId: string, options: { requestId: string }): Promise<PurgeOutcome> {
    const { store, logger, beforeStep } = this.deps;
    const org = await store.get(orgId);
    if (org.status !== 'purging') {
      logger.info('nothing to purge', { status: org.status });
      return 'skipped';
    }
    const run: PurgeRun = { org, requestId: options.requestId };
    try {
      // Every failure is recorded and thrown at once (the database is kept); the reconciler tries again later.
      await runPipeline(this.pipeline, run, { logger, isLastAttempt: false, beforeStep: beforeStep && ((step) => beforeStep(step, orgId)) });
    } finally {
      await run.admin?.close();
    }
    logger.info('organization purged', { archive: run.archive?.fileName ?? null });
    return 'purged';
  }

  /** A new archive of the database, written (never half a file under the final name) and recorded, not yet verified. */
  private async archive(run: PurgeRun): Promise<{ archive: string; bytes: number }> {
    const { archives, dir, logger } = this.deps;
    const { org, requestId } = run;
    await this.removeLeftovers(org.id);
    const started = Date.now();
    const fileName = archiveFileName(org.id, new Date());
    const databaseUrl = withDatabase((run.server as DatabaseServer).adminUrl, org.databaseName);
    const file = await writeDump(databaseUrl, dir, fileName);
    run.written = await archives.recordArchive({ id: randomUUID(), orgId: org.id, databaseName: org.databaseName, requestId, ...file });
    logger.info('organization archived', { archive: fileName, bytes: file.sizeBytes, ms: Date.now() - started });
    return { archive: fileName, bytes: file.sizeBytes };
  }

  /**
   * Drops the database (also when it is gone already: a leftover staging database goes too) and
   * the organization's role with it, then leaves the tombstone naming its archive.
   */
  private async dropDatabase(run: PurgeRun): Promise<void> {
    const { store, logger } = this.deps;
    const { org, requestId } = run;
    const dropped = await (run.admin as DatabaseAdmin).dropDatabase(org.id, org.databaseName);
    if (dropped.foreign.length > 0) logger.warn('left a database that is not ours untouched', { databases: dropped.foreign });
    await this.deps.roles.dropFrom(org, run.server as DatabaseServer);
    await this.deps.pgbouncer?.sync();
    await store.clearPendingAdminPasswordHash(org.id);
    run.archive ??= await this.deps.archives.latestVerifiedArchive(org.id, org.deletedAt ?? org.updatedAt);
    await store.transition(org.id, 'purged', {
      step: 'purged',
      requestId,
      detail: run.archive ? `archived as ${run.archive.fileName}` : 'no database to archive',
      patch: { lastError: null },
    });
  }

  /**
   * What a run killed half way left in ARCHIVE_DIR for this organization: a temporary file, or a
   * whole file it did not get to record. Neither is an archive anyone can rely on, and a new one
   * is about to be written; recorded archives are never touched.
   */
  private async removeLeftovers(orgId: string): Promise<void> {
    const { dir, archives, logger } = this.deps;
    const recorded = new Set((await archives.listArchives(orgId)).map((archive) => archive.fileName));
    const names = await readdir(dir).catch(() => [] as string[]);
    const leftovers = names.filter(
      (name) => (name.startsWith(`.${orgId}-`) && name.endsWith('.partial')) || (name.startsWith(`${orgId}-`) && name.endsWith('.dump') && !recorded.has(name)),
    );
    for (const name of leftovers) await rm(join(dir, name), { force: true });
    if (leftovers.length > 0) logger.warn('removed files an interrupted purge left behind', { files: leftovers });
  }
}
