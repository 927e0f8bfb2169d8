import type { TenancyConfig } from '@orgms/common/config';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { latestTenantMigration } from '@orgms/migrations';
import type { OrganizationServers } from '../fleet/organization-servers';
import { describeFailure, JobFailure, jobFailureOf } from '../job-failure';
import type { SpareDatabases } from '../tenancy/spare-databases';
import { refreshTemplate } from '../tenancy/template-database';
import type { TenantRoles } from '../tenancy/tenant-roles';
import { OutcomeWriter } from './outcome-writer';
import { ServerSchemaMigrator } from './server-schema-migrator';

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
  /** MIGRATION_BATCH_SIZE and MIGRATION_CONCURRENCY: how the run's organizations are cut into `migrate-tenants` jobs. */
  batching: { batchSize: number; concurrency: number };
}

/** What became of one organization of a batch; `retrying`: failed, and the batch's next attempt tries it again. */
type TenantMigrationOutcome = 'succeeded' | 'skipped' | 'failed' | 'retrying';

export type BatchOutcome = Record<TenantMigrationOutcome, number>;

/**
 * Fleet migrations: every server's template first, then every active organization's database,
 * in batches of organizations of one server (one job each, organizations one after another on
 * one reused runner, server-schema-migrator.ts). Each organization's outcome is recorded as it
 * ends, so one broken database fails alone and the others carry on. An organization without its
 * own database role (made before roles existed) is migrated too, whatever its version: its batch
 * gives it its role first, so a run is also how roles reach the fleet.
 */
export class MigrationRunsService {
  constructor(private readonly deps: MigrationsDeps) {}

  /** Upgrades the template, records the plan, returns the batches of organizations that need a child job. */
  async planRun(runId: string): Promise<string[][]> {
    const { runs, store } = this.deps;
    const { targetVersion } = await runs.get('migration', runId);
    const templateOutcome = await this.upgradeTemplate();
    // At the target already and not waiting for its own role: nothing to do, no connection to its database needed.
    const organizations = await store.activeSchemaVersions();
    const items = (await this.withRoleNeeds(organizations)).map((o) => ({
      orgId: o.id,
      fromVersion: o.schemaVersion,
      skip: o.schemaVersion === targetVersion && !o.needsRole,
    }));
    const pending = await runs.plan(runId, items, { templateOutcome });
    const serverOf = new Map(organizations.map((o) => [o.id, o.databaseServerId]));
    const batches = this.batchesOf(pending, (orgId) => serverOf.get(orgId) ?? null);
    this.deps.logger.info('migration run planned', { runId, pending: pending.length, batches: batches.length, templateOutcome });
    return batches;
  }

  async finishRun(runId: string) {
    await this.deps.runs.complete(runId);
    const run = await this.deps.runs.get('migration', runId);
    this.deps.logger.info('migration run finished', { runId, ...run.totals });
    return run.totals;
  }

  /**
   * Migrates a batch of organizations one after another, recording each one's outcome as it ends.
   * Those no longer pending (done by an earlier attempt or a duplicate job) are left alone, so a
   * re-run after a crash converges. A failure is recorded on its organization only when no retry
   * follows (permanent, or the batch's last attempt), so `failed` means failed for good; if some
   * may still succeed, the batch fails after the others and its next attempt retries only them.
   */
  async migrateBatch(runId: string, orgIds: string[], isLastAttempt: boolean): Promise<BatchOutcome> {
    const { runs, store, roles, logger } = this.deps;
    const pending = await runs.pendingAmong(runId, orgIds);
    const organizations = new Map((await store.getMany([...pending])).map((o) => [o.id, o]));
    const roleNames = await roles.grantedRoleNames([...pending]);
    const outcome: BatchOutcome = { succeeded: 0, skipped: 0, failed: 0, retrying: 0 };
    const migrators = new Map<string, ServerSchemaMigrator>();
    // Migrated organizations are recorded while the next ones migrate; one that could not be
    // recorded stays pending, and the batch's next attempt finds nothing to apply and records it.
    const succeeded = new OutcomeWriter(
      async (ids) => {
        await store.setSchemaVersions(ids, latestTenantMigration);
        await runs.finishItems(runId, ids, 'succeeded');
      },
      (ids, error) => {
        if (error !== undefined) logger.warn('could not record migrated organizations', { orgIds: ids, error });
        outcome[error === undefined ? 'succeeded' : 'retrying'] += ids.length;
      },
    );
    try {
      for (const orgId of pending) {
        const result = await this.migrateTenant(runId, orgId, organizations.get(orgId), roleNames.get(orgId), { migrators, isLastAttempt });
        if (result === 'migrated') succeeded.add(orgId);
        else outcome[result]++;
      }
    } finally {
      await succeeded.settled();
      await Promise.all([...migrators.values()].map((migrator) => migrator.close()));
    }
    logger.info('migration batch done', { runId, organizations: orgIds.length, alreadyDone: orgIds.length - pending.size, ...outcome });
    if (outcome.retrying > 0) throw new JobFailure(`${outcome.retrying} of ${orgIds.length} organizations failed and are retried`, { permanent: false });
    return outcome;
  }

  /**
   * One organization of a batch, on its server's migrator (made on first use); `roleName` is its
   * granted role's, if any. `migrated`: the caller records its success.
   */
  private async migrateTenant(
    runId: string,
    orgId: string,
    org: Organization | undefined,
    roleName: string | undefined,
    batch: { migrators: Map<string, ServerSchemaMigrator>; isLastAttempt: boolean },
  ): Promise<Exclude<TenantMigrationOutcome, 'succeeded'> | 'migrated'> {
    const { runs, roles, logger } = this.deps;
    if (org?.status !== 'active') {
      await runs.finishItem(runId, orgId, 'skipped', `organization is ${org?.status ?? 'gone'}`);
      return 'skipped';
    }
    try {
      const server = await this.deps.servers.of(org);
      const needsRole = server.tenantRoles && roleName === undefined;
      if (org.schemaVersion === latestTenantMigration && !needsRole) {
        await runs.finishItem(runId, orgId, 'skipped');
        return 'skipped';
      }
      if (needsRole) await roles.provide(org, server);
      const role = needsRole ? (await roles.grantedRoleNames([orgId])).get(orgId) : roleName;
      // Never as the admin where the organization has a role: what the migration makes must be the role's.
      if (server.tenantRoles && role === undefined) throw new JobFailure('migrate: its database role is not granted yet', { permanent: false });
      const migrator = batch.migrators.get(server.id) ?? new ServerSchemaMigrator(server.adminUrl);
      batch.migrators.set(server.id, migrator);
      const applied = await migrator.migrate(org.databaseName, server.tenantRoles ? role : undefined);
      logger.info('organization database migrated', { orgId, applied, role: needsRole ? 'given' : 'kept' });
      // Replicas drop their pools (and cached login) of it: the next request logs in as its own role.
      if (needsRole) this.deps.events.publish({ type: 'evict', orgId });
      return 'migrated';
    } catch (cause) {
      const failure = jobFailureOf('migrate', cause);
      const final = failure.permanent || batch.isLastAttempt;
      logger.warn('organization migration failed', { orgId, permanent: failure.permanent, final, error: cause });
      if (!final) return 'retrying';
      await runs.finishItem(runId, orgId, 'failed', failure.message);
      return 'failed';
    }
  }

  /**
   * The run's organizations in jobs of one server each, at most MIGRATION_BATCH_SIZE, and small
   * enough that a run of few organizations still fills a worker's MIGRATION_CONCURRENCY slots.
   * The servers take turns in the list (jobs start in the order they are added), so the batches
   * running at once spread over the fleet rather than all landing on its first server.
   */
  private batchesOf(orgIds: string[], serverOf: (orgId: string) => string | null): string[][] {
    const { batchSize, concurrency } = this.deps.batching;
    const size = Math.max(1, Math.min(batchSize, Math.ceil(orgIds.length / concurrency)));
    const byServer = new Map<string | null, string[]>();
    for (const orgId of orgIds) {
      const ids = byServer.get(serverOf(orgId)) ?? [];
      ids.push(orgId);
      byServer.set(serverOf(orgId), ids);
    }
    const perServer = [...byServer.values()].map((ids) => Array.from({ length: Math.ceil(ids.length / size) }, (_, i) => ids.slice(i * size, (i + 1) * size)));
    const turns = Math.max(0, ...perServer.map((batches) => batches.length));
    return Array.from({ length: turns }, (_, turn) => perServer.flatMap((batches) => (turn < batches.length ? [batches[turn]] : []))).flat();
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
