import { randomUUID } from 'node:crypto';
import type { AuditLogStore } from '@orgms/common/control-plane/audit-log-store';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import type { RefreshTokenStore } from '@orgms/common/control-plane/refresh-token-store';
import { IN_PROGRESS_STATUSES, type OrganizationStatus } from '@orgms/common/entities/organization-status';
import { ConflictError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { findOrphans, type Orphan } from '@orgms/common/tenancy/orphans';
import { orphanDatabasesGauge } from '../metrics';
import type { OrganizationServers } from '../tenancy/organization-servers';
import type { ExportService } from './export.service';

export interface ReconcilerDeps {
  databasePrefix: string;
  servers: OrganizationServers;
  store: OrganizationStore;
  jobs: OrganizationJobs;
  logger: Logger;
  stuckAfterMs: number;
  /** Deletes the files of expired organization exports; finds the ones whose job was lost. */
  exports?: Pick<ExportService, 'expireDue' | 'unfinished'>;
  /** Forgets expired refresh tokens, which are refused anyway. */
  refreshTokens?: Pick<RefreshTokenStore, 'deleteExpired'>;
  /** Deletes audit entries past their retention (AUDIT_RETENTION_DAYS; 0 keeps them). */
  auditRetention?: { store: Pick<AuditLogStore, 'deleteOlderThan'>; days: number };
}

export interface ReconcileReport {
  examined: number;
  enqueued: string[];
  /** Deleted organizations whose grace period ended: now `purging`, their purge enqueued. */
  purgesStarted: string[];
  /** Exports still queued or running after the stuck bound whose job was missing: enqueued again. */
  exportsResumed: string[];
  orphans: Orphan[];
}

/**
 * Finds organizations whose job was lost (Redis was down when the API enqueued, or the job was
 * removed) and enqueues them again under the same deterministic job id, so an organization
 * that still has a live job is never enqueued twice. Then looks for orphans both ways and
 * reports them (log, metric; the API's GET /admin/orphans shows them): it never drops anything.
 */
export class ReconcilerService {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(): Promise<ReconcileReport> {
    const purgesStarted = await this.startDuePurges();
    const stale = await this.deps.store.findStale(IN_PROGRESS_STATUSES, this.deps.stuckAfterMs);
    const enqueued: string[] = [];
    for (const org of stale) {
      const data = { orgId: org.id, requestId: org.requestId ?? `reconcile-${randomUUID()}` };
      const added = await this.enqueueFor(org, data);
      if (added) enqueued.push(org.id);
    }
    if (enqueued.length > 0) this.deps.logger.warn('reconciler re-enqueued organizations', { orgIds: enqueued });
    const exportsResumed = await this.resumeLostExports();
    const orphans = await this.detectOrphans();
    await this.deps.exports?.expireDue().catch((error) => this.deps.logger.warn('could not delete expired exports', { error: (error as Error).message }));
    await this.deps.refreshTokens
      ?.deleteExpired()
      .catch((error) => this.deps.logger.warn('could not delete expired refresh tokens', { error: (error as Error).message }));
    await this.expireAuditEntries();
    return { examined: stale.length, enqueued, purgesStarted, exportsResumed, orphans };
  }

  /**
   * An export whose job Redis lost would stay `queued` for good: each one older than the stuck
   * bound is asked for again under its own job id, so one whose job is still waiting or running
   * is left alone.
   */
  private async resumeLostExports(): Promise<string[]> {
    const resumed: string[] = [];
    for (const lost of (await this.deps.exports?.unfinished(this.deps.stuckAfterMs)) ?? []) {
      const requestId = lost.requestId ?? `reconcile-${randomUUID()}`;
      if (await this.deps.jobs.export({ exportId: lost.id, orgId: lost.orgId, requestId })) resumed.push(lost.id);
    }
    if (resumed.length > 0) this.deps.logger.warn('reconciler re-enqueued exports', { exportIds: resumed });
    return resumed;
  }

  private async expireAuditEntries(): Promise<void> {
    const retention = this.deps.auditRetention;
    if (!retention || retention.days === 0) return;
    try {
      const deleted = await retention.store.deleteOlderThan(retention.days);
      if (deleted > 0) this.deps.logger.info('audit entries past their retention deleted', { deleted, retentionDays: retention.days });
    } catch (error) {
      this.deps.logger.warn('could not delete audit entries past their retention', { error: (error as Error).message });
    }
  }

  /**
   * The end of the grace period: each deleted organization due is made `purging` (one at a time,
   * so one restored meanwhile simply stays active) and its purge enqueued. A purge whose job is
   * lost is found again as a stale `purging` organization.
   */
  private async startDuePurges(): Promise<string[]> {
    const started: string[] = [];
    for (const orgId of await this.deps.store.dueForPurge()) {
      const requestId = `purge-${randomUUID()}`;
      try {
        await this.deps.store.transition(orgId, 'purging', { onlyFrom: ['deleted'], step: 'archive', requestId, detail: 'grace period over' });
      } catch (error) {
        if (error instanceof ConflictError) continue;
        throw error;
      }
      await this.deps.jobs.purge({ orgId, requestId });
      started.push(orgId);
    }
    if (started.length > 0) this.deps.logger.info('grace period over; purging organizations', { orgIds: started });
    return started;
  }

  /** The job that carries on where `org` is: a purge, a move (from the server it is still on), or provisioning. */
  private async enqueueFor(org: { id: string; status: OrganizationStatus }, data: { orgId: string; requestId: string }): Promise<boolean> {
    if (org.status === 'purging') return this.deps.jobs.purge(data);
    if (org.status === 'moving') {
      const { databaseServerId } = await this.deps.store.get(org.id);
      return databaseServerId ? this.deps.jobs.move({ ...data, fromServerId: databaseServerId }) : false;
    }
    return this.deps.jobs.provision(data);
  }

  async detectOrphans(): Promise<Orphan[]> {
    const { orphans, unreachableServers } = await findOrphans(await this.deps.servers.directory.inService(), this.deps.databasePrefix, this.deps.store);
    if (unreachableServers.length > 0) this.deps.logger.warn('could not look for orphans on unreachable database servers', { servers: unreachableServers });
    orphanDatabasesGauge.set({ kind: 'database_without_organization' }, orphans.filter((o) => o.kind === 'database_without_organization').length);
    orphanDatabasesGauge.set({ kind: 'organization_without_database' }, orphans.filter((o) => o.kind === 'organization_without_database').length);
    for (const orphan of orphans) this.deps.logger.warn('orphan found; not touching it', { ...orphan });
    return orphans;
  }
}
