import type { TenancyConfig } from '@orgms/common/config';
import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { latestTenantMigration } from '@orgms/migrations';
import type { OrganizationServers } from '../fleet/organization-servers';
import { describeFailure, jobFailureOf } from '../job-failure';
import type { SpareDatabases } from '../tenancy/spare-databases';
import { refreshTemplate } from '../tenancy/template-database';
import type { TenantRoles } from '../tenancy/tenant-roles';

export interface MigrationsDeps {
  tenancy: Pick<TenancyConfig, 'databasePrefix' | 'templateEnabled'>;
  servers: OrganizationServers;
  store: OrganizationStore;
  runs: TrackedRunStore;
  /** Organizations from before per-organization roles get theirs in a fleet run; migrations connect as it. */
  roles: TenantRoles;
  /** Tells every API replica to reconnect an organization that just got its own role. */
  events: OrganizationEventPublisher;
  /** Spares of the template before the upgrade are retired, and new ones cloned from the upgraded one. */
  spares: Pick<SpareDatabases, 'refillSoon'>;
  logger: Logger;
}

export type TenantMigrationOutcome = 'succeeded' | 'skipped';

/**
 * Fleet migrations: every server's template first, then every active organization's database,
 * each in its own job, so one broken database fails alone and the others carry on. An
 * organization without its own database role (made before roles existed) is migrated too,
 * whatever its version: its job gives it its role first, so a run is also how roles reach the fleet.
 */
export class MigrationRunsService {
  constructor(private readonly deps: MigrationsDeps) {}

  /** Upgrades the template, records the plan, returns the organizations that need a child job. */
  async planRun(runId: string): Promise<string[]> {
    const { runs, store } = this.deps;
    const { targetVersion } = await runs.get('migration', runId);
    const templateOutcome = await this.upgradeTemplate();
    // At the target already and not waiting for its own role: nothing to do, no connection to its database needed.
    const items = (await this.withRoleNeeds(await store.activeSchemaVersions())).map((o) => ({
      orgId: o.id,
      fromVersion: o.schemaVersion,
      skip: o.schemaVersion === targetVersion && !o.needsRole,
    }));
    const pending = await runs.plan(runId, items, { templateOutcome });
    this.deps.logger.info('migration run planned', { runId, pending: pending.length, templateOutcome });
    return pending;
  }

  async finishRun(runId: string) {
    await this.deps.runs.complete(runId);
    const run = await this.deps.runs.get('migration', runId);
    this.deps.logger.info('migration run finished', { runId, ...run.totals });
    return run.totals;
  }

  /**
   * Migrates one organization's database. A failure is recorded on the item only when no
   * retry follows, so `failed` means failed for good; a success records `schema_version`.
   */
  async migrateTenant(runId: string, orgId: string, isLastAttempt: boolean): Promise<TenantMigrationOutcome> {
    const { runs, store, roles, logger } = this.deps;
    if ((await runs.item(runId, orgId))?.status !== 'pending') return 'skipped';
    const org = await store.get(orgId);
    if (org.status !== 'active') {
      await runs.finishItem(runId, orgId, 'skipped', `organization is ${org.status}`);
      return 'skipped';
    }
    try {
      const server = await this.deps.servers.of(org);
      const needsRole = await roles.lacksRole(org, server);
      if (org.schemaVersion === latestTenantMigration && !needsRole) {
        await runs.finishItem(runId, orgId, 'skipped');
        return 'skipped';
      }
      if (needsRole) await roles.provide(org, server);
      const tenant = await createTenantDataSource(await roles.tenantUrl(org, server), 1, { schemaChanges: true }).initialize();
      try {
        const applied = await tenant.runMigrations({ transaction: 'each' });
        logger.info('organization database migrated', { applied: applied.map((m) => m.name), role: needsRole ? 'given' : 'kept' });
      } finally {
        await tenant.destroy().catch(() => undefined);
      }
      // Replicas drop their pools (and cached login) of it: the next request logs in as its own role.
      if (needsRole) this.deps.events.publish({ type: 'evict', orgId });
      await store.setSchemaVersion(orgId, latestTenantMigration);
      await runs.finishItem(runId, orgId, 'succeeded');
      return 'succeeded';
    } catch (cause) {
      const failure = jobFailureOf('migrate', cause);
      const final = failure.permanent || isLastAttempt;
      logger.warn('organization migration failed', { permanent: failure.permanent, final, error: cause });
      if (final) await runs.finishItem(runId, orgId, 'failed', failure.message);
      throw failure;
    }
  }

  /**
   * Which organizations wait for their own role: those without a granted one, on a server that
   * gives roles (the server from the directory's cache, so no read per organization).
   */
  private async withRoleNeeds(organizations: { id: string; schemaVersion: string | null; databaseServerId: string | null }[]) {
    const granted = await this.deps.roles.grantedAmong(organizations.map((o) => o.id));
    return Promise.all(
      organizations.map(async ({ databaseServerId, ...o }) => {
        if (granted.has(o.id) || databaseServerId === null) return { ...o, needsRole: false };
        return { ...o, needsRole: (await this.deps.servers.of({ id: o.id, databaseServerId })).tenantRoles };
      }),
    );
  }

  /** Every server's template; the outcome names the servers when they differ (e.g. one unreachable). */
  private async upgradeTemplate(): Promise<string> {
    if (!this.deps.tenancy.templateEnabled) return 'template disabled';
    const servers = await this.deps.servers.directory.inService();
    const outcomes = await Promise.all(
      servers.map(async (server) => {
        try {
          const outcome = await refreshTemplate(server.adminUrl, this.deps.tenancy.databasePrefix, this.deps.logger);
          this.deps.spares.refillSoon(server.id);
          return `template ${outcome}`;
        } catch (error) {
          // Clones fall back to the slow path while the template is unusable; the fleet still migrates.
          this.deps.logger.error('could not upgrade the template database', { server: server.name, error });
          return `template upgrade failed: ${describeFailure('template', error)}`;
        }
      }),
    );
    if (new Set(outcomes).size <= 1) return outcomes[0] ?? 'no database server';
    return servers
      .map((server, i) => `${server.name}: ${outcomes[i]}`)
      .join('; ')
      .slice(0, 200);
  }
}
