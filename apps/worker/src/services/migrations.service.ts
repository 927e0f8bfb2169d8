import type { TenancyConfig } from '@orgms/common/config';
import type { MigrationRunStore } from '@orgms/common/control-plane/migration-run-store';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import { withDatabase } from '@orgms/common/database/database-urls';
import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import type { Logger } from '@orgms/common/logger';
import { latestTenantMigration } from '@orgms/migrations';
import { describeFailure, jobFailureOf } from '../job-failure';
import type { OrganizationServers } from '../tenancy/organization-servers';
import { refreshTemplate } from '../tenancy/template-database';

export interface MigrationsDeps {
  tenancy: Pick<TenancyConfig, 'databasePrefix' | 'templateEnabled'>;
  servers: OrganizationServers;
  store: OrganizationStore;
  runs: MigrationRunStore;
  logger: Logger;
}

export type TenantMigrationOutcome = 'succeeded' | 'skipped';

/**
 * Fleet migrations: every server's template first, then every active organization's database,
 * each in its own job, so one broken database fails alone and the others carry on.
 */
export class MigrationsService {
  constructor(private readonly deps: MigrationsDeps) {}

  /** Upgrades the template, records the plan, returns the organizations that need a child job. */
  async planRun(runId: string): Promise<string[]> {
    const templateOutcome = await this.upgradeTemplate();
    const pending = await this.deps.runs.plan(runId, templateOutcome, await this.deps.store.activeSchemaVersions());
    this.deps.logger.info('migration run planned', { runId, pending: pending.length, templateOutcome });
    return pending;
  }

  async finishRun(runId: string) {
    await this.deps.runs.complete(runId);
    const run = await this.deps.runs.get(runId);
    this.deps.logger.info('migration run finished', { runId, ...run.totals });
    return run.totals;
  }

  /**
   * Migrates one organization's database. A failure is recorded on the item only when no
   * retry follows, so `failed` means failed for good; a success records `schema_version`.
   */
  async migrateTenant(runId: string, orgId: string, isLastAttempt: boolean): Promise<TenantMigrationOutcome> {
    const { runs, store, logger } = this.deps;
    if ((await runs.itemStatus(runId, orgId)) !== 'pending') return 'skipped';
    const org = await store.get(orgId);
    if (org.status !== 'active' || org.schemaVersion === latestTenantMigration) {
      await runs.finishItem(runId, orgId, 'skipped', org.status !== 'active' ? `organization is ${org.status}` : null);
      return 'skipped';
    }
    try {
      const server = await this.deps.servers.of(org);
      const tenant = await createTenantDataSource(withDatabase(server.adminUrl, org.databaseName), 1).initialize();
      try {
        const applied = await tenant.runMigrations({ transaction: 'each' });
        logger.info('organization database migrated', { applied: applied.map((m) => m.name) });
      } finally {
        await tenant.destroy().catch(() => undefined);
      }
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

  /** Every server's template; the outcome names the servers when they differ (e.g. one unreachable). */
  private async upgradeTemplate(): Promise<string> {
    if (!this.deps.tenancy.templateEnabled) return 'template disabled';
    const servers = await this.deps.servers.directory.inService();
    const outcomes = await Promise.all(
      servers.map(async (server) => {
        try {
          return `template ${await refreshTemplate(server.adminUrl, this.deps.tenancy.databasePrefix)}`;
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
