import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseServer } from '@orgms/common/control-plane/database-server-store';
import type { OrganizationArchive, OrganizationArchiveStore } from '@orgms/common/control-plane/organization-archive-store';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Organization } from '@orgms/common/entities/organization.entity';
import type { PurgeStep } from '@orgms/common/entities/organization-status';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { Logger } from '@orgms/common/logger';
import { jobFailureOf } from '../job-failure';
import { DatabaseAdmin } from '../tenancy/database-admin';
import { dumpToFile, tableCount, verifyDumpFile } from '../tenancy/dump-file';
import type { OrganizationServers } from '../tenancy/organization-servers';
import type { PgBouncerDatabases } from '../tenancy/pgbouncer-databases';
import type { TenantRoles } from '../tenancy/tenant-roles';

export interface PurgeDeps {
  servers: OrganizationServers;
  pgbouncer?: PgBouncerDatabases;
  store: OrganizationStore;
  archives: OrganizationArchiveStore;
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
  constructor(private readonly deps: PurgeDeps) {}

  async purge(orgId: string, options: { requestId: string }): Promise<PurgeOutcome> {
    const { store, logger, events } = this.deps;
    const org = await store.get(orgId);
    if (org.status !== 'purging') {
      logger.info('nothing to purge', { status: org.status });
      return 'skipped';
    }
    const progress: { step: PurgeStep } = { step: 'archive' };
    try {
      // Nothing may use the database while it is archived and dropped: pools go on every API replica.
      events.publish({ type: 'evict', orgId });
      const server = await this.deps.servers.of(org);
      const admin = await DatabaseAdmin.connect(server.adminUrl);
      let archive: OrganizationArchive | undefined;
      try {
        if (await admin.holds(org.id, org.databaseName)) {
          archive = await this.verifiedArchive(org, server, progress, options.requestId);
          await this.enter(org, 'drop_database', progress, options.requestId, `archive ${archive.fileName} verified`);
        }
        // Also when the database is gone (a re-run after the drop): a leftover staging database goes too.
        const dropped = await admin.dropDatabase(org.id, org.databaseName);
        if (dropped.foreign.length > 0) logger.warn('left a database that is not ours untouched', { databases: dropped.foreign });
        await this.deps.roles.dropFrom(org, server);
      } finally {
        await admin.close();
      }
      await this.deps.pgbouncer?.sync();
      await store.clearPendingAdminPasswordHash(orgId);
      archive ??= await this.deps.archives.latestVerified(orgId, org.deletedAt ?? org.updatedAt);
      await store.transition(orgId, 'purged', {
        step: 'purged',
        requestId: options.requestId,
        detail: archive ? `archived as ${archive.fileName}` : 'no database to archive',
        patch: { lastError: null },
      });
      logger.info('organization purged', { archive: archive?.fileName ?? null });
      return 'purged';
    } catch (cause) {
      const failure = jobFailureOf(progress.step, cause);
      logger.error('purge failed; the database is kept', { step: progress.step, permanent: failure.permanent, error: cause });
      await store
        .recordStep(orgId, 'purging', { step: progress.step, requestId: options.requestId, detail: failure.message, patch: { lastError: failure.message } })
        .catch(() => undefined);
      throw failure;
    }
  }

  /** The newest verified archive made since the deletion (the data cannot have changed since), or a new one, written and verified. */
  private async verifiedArchive(org: Organization, server: DatabaseServer, progress: { step: PurgeStep }, requestId: string): Promise<OrganizationArchive> {
    const { archives, dir, logger } = this.deps;
    const existing = await archives.latestVerified(org.id, org.deletedAt ?? org.updatedAt);
    if (existing) return existing;
    await this.enter(org, 'archive', progress, requestId, null);
    await this.removeLeftovers(org.id);
    const started = Date.now();
    const at = new Date();
    const fileName = archiveFileName(org.id, at);
    const databaseUrl = withDatabase(server.adminUrl, org.databaseName);
    // Nothing writes to a purging organization's database: what it holds now is what the dump holds.
    const tables = await tableCount(databaseUrl);
    const file = await dumpToFile(databaseUrl, dir, fileName);
    const written = await archives.record({ id: randomUUID(), orgId: org.id, databaseName: org.databaseName, fileName, requestId, ...file });
    logger.info('organization archived', { archive: fileName, bytes: file.sizeBytes, ms: Date.now() - started });
    await this.enter(org, 'verify_archive', progress, requestId, `archive ${fileName} written (${file.sizeBytes} bytes)`);
    await verifyDumpFile(join(dir, fileName), written, { tableData: tables > 0 });
    await archives.markVerified(written.id);
    return archives.get(written.id);
  }

  /**
   * What a run killed half way left in ARCHIVE_DIR for this organization: a temporary file, or a
   * whole file it did not get to record. Neither is an archive anyone can rely on, and a new one
   * is about to be written; recorded archives are never touched.
   */
  private async removeLeftovers(orgId: string): Promise<void> {
    const { dir, archives, logger } = this.deps;
    const recorded = new Set((await archives.listForOrganization(orgId)).map((archive) => archive.fileName));
    const names = await readdir(dir).catch(() => [] as string[]);
    const leftovers = names.filter(
      (name) => (name.startsWith(`.${orgId}-`) && name.endsWith('.partial')) || (name.startsWith(`${orgId}-`) && name.endsWith('.dump') && !recorded.has(name)),
    );
    for (const name of leftovers) await rm(join(dir, name), { force: true });
    if (leftovers.length > 0) logger.warn('removed files an interrupted purge left behind', { files: leftovers });
  }

  private async enter(org: Organization, step: PurgeStep, progress: { step: PurgeStep }, requestId: string, detail: string | null): Promise<void> {
    progress.step = step;
    await this.deps.store.recordStep(org.id, 'purging', { step, requestId, detail });
    await this.deps.beforeStep?.(step, org.id);
  }
}
