import type { TenancyConfig } from '@orgms/common/config';
import type { DatabaseServer } from '@orgms/common/control-plane/database-server-store';
import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import type { Organization } from '@orgms/common/entities/organization.entity';
import { canTransition, type ProvisioningStep } from '@orgms/common/entities/organization-status';
import type { Logger } from '@orgms/common/logger';
import { latestTenantMigration } from '@orgms/migrations';
import { type JobFailure, jobFailureOf } from '../job-failure';
import { provisioningStepDuration } from '../metrics';
import type { ArchiveRestorer } from '../tenancy/archive-restore';
import { DatabaseAdmin, type EnsureDatabaseOutcome } from '../tenancy/database-admin';
import type { OrganizationServers } from '../tenancy/organization-servers';
import type { PgBouncerDatabases } from '../tenancy/pgbouncer-databases';
import { currentTemplate } from '../tenancy/template-database';
import { openProvisioningConnection, type ProvisioningConnection } from '../tenancy/tenant-connection';
import type { TenantRoles } from '../tenancy/tenant-roles';

export interface ProvisionOptions {
  requestId: string;
  /** When true a failure is final: the organization becomes `failed` instead of waiting for a retry. */
  isLastAttempt: boolean;
  /** Told when a step starts, e.g. to show the organization and its step on the job in Bull Board. */
  onStep?: (step: ProvisioningStep, org: Organization) => Promise<unknown>;
}

export type ProvisionOutcome = 'activated' | 'skipped';

export interface ProvisioningDeps {
  tenancy: Pick<TenancyConfig, 'databasePrefix' | 'templateEnabled'>;
  store: OrganizationStore;
  /** Where each organization's database lives. */
  servers: OrganizationServers;
  /** A shared PgBouncer's database entries, when the service keeps them (PGBOUNCER_DATABASES_FILE). */
  pgbouncer?: PgBouncerDatabases;
  /** Each organization's own login role, which owns its database; migrations and seeding connect as it. */
  roles: TenantRoles;
  /** Fills the database of an organization recreated from an archive (`restoredFromArchiveId`). */
  archives: ArchiveRestorer;
  logger: Logger;
  /** Called before each step; tests use it to interrupt provisioning at a chosen point. */
  beforeStep?: (step: ProvisioningStep, orgId: string) => Promise<void> | void;
}

/**
 * Turns a `pending` (or `failed`, on retry) organization into an `active` one with its own
 * database. Every step is idempotent, so the job may run again after a crash at any point.
 */
export class ProvisioningService {
  constructor(private readonly deps: ProvisioningDeps) {}

  async provision(orgId: string, options: ProvisionOptions): Promise<ProvisionOutcome> {
    const { store, logger } = this.deps;
    let org = await store.get(orgId);
    if (!canTransition(org.status, 'provisioning')) {
      logger.info('nothing to provision', { status: org.status });
      return 'skipped';
    }
    org = await store.transition(orgId, 'provisioning', {
      requestId: options.requestId,
      detail: `attempt ${org.attempts + 1}`,
      patch: { attempts: org.attempts + 1 },
    });

    const progress: { step: ProvisioningStep } = { step: 'create_database' };
    let tenant: ProvisioningConnection | undefined;
    try {
      const server = await this.deps.servers.of(org);
      const made = await this.runStep(org, 'create_database', progress, options, () => this.createDatabase(org, server, options.requestId));
      await this.runStep(org, 'database_role', progress, options, () => this.deps.roles.provide(org, server));
      tenant = await openProvisioningConnection(await this.deps.roles.tenantUrl(org, server), made === 'cloned');
      const db = tenant;
      await this.runStep(org, 'migrate', progress, options, () => this.migrate(org, db));
      await this.runStep(org, 'seed_admin', progress, options, () => this.seedAdmin(org, db));
      await this.runStep(org, 'activate', progress, options, () =>
        store.transition(org.id, 'active', { step: 'activate', requestId: options.requestId, patch: { lastError: null } }),
      );
      logger.info('organization active', { attempts: org.attempts });
      return 'activated';
    } catch (cause) {
      throw await this.recordFailure(org, progress.step, cause, options);
    } finally {
      await tenant?.close();
    }
  }

  private async runStep<T>(
    org: Organization,
    step: ProvisioningStep,
    progress: { step: ProvisioningStep },
    options: ProvisionOptions,
    work: () => Promise<T>,
  ): Promise<T> {
    progress.step = step;
    await this.deps.store.recordStep(org.id, 'provisioning', { step, requestId: options.requestId });
    await options.onStep?.(step, org);
    await this.deps.beforeStep?.(step, org.id);
    const stopTimer = provisioningStepDuration.startTimer({ step });
    const started = Date.now();
    try {
      const result = await work();
      stopTimer({ outcome: 'ok' });
      this.deps.logger.info('provisioning step done', { step, result, ms: Date.now() - started });
      return result;
    } catch (error) {
      stopTimer({ outcome: 'error' });
      throw error;
    }
  }

  /**
   * Clones the template when it is current (DESIGN §8), else creates an empty database; the
   * migrate step runs either way. `stillWanted` closes the race with a concurrent DELETE: the
   * database is created only if, under the organization lock, the org is still provisioning.
   */
  private async createDatabase(org: Organization, server: DatabaseServer, requestId: string): Promise<EnsureDatabaseOutcome> {
    const { tenancy, store, logger } = this.deps;
    const admin = await DatabaseAdmin.connect(server.adminUrl);
    try {
      const outcome = await admin.ensureDatabase(org.id, org.databaseName, {
        template: tenancy.templateEnabled ? currentTemplate(tenancy.databasePrefix) : undefined,
        onTemplateFallback: (reason) => logger.warn('template not used; creating an empty database', { reason }),
        stillWanted: async () => (await store.get(org.id)).status === 'provisioning',
        fill: org.restoredFromArchiveId
          ? (staging) => this.deps.archives.restoreInto(org.restoredFromArchiveId as string, server.adminUrl, staging)
          : undefined,
      });
      // Before the organization can be active, a shared PgBouncer must know where its database is.
      await this.deps.pgbouncer?.sync();
      await store.recordStep(org.id, 'provisioning', { step: 'create_database', requestId, detail: `database ${outcome} on ${server.name}` });
      return outcome;
    } finally {
      await admin.close();
    }
  }

  private async migrate(org: Organization, tenant: ProvisioningConnection): Promise<number> {
    const applied = await tenant.migrate();
    await this.deps.store.setSchemaVersion(org.id, latestTenantMigration);
    return applied;
  }

  /** Upserts the first admin from the hash kept in the control database, then forgets the hash. */
  private async seedAdmin(org: Organization, tenant: ProvisioningConnection): Promise<string> {
    const hash = await this.deps.store.pendingAdminPasswordHash(org.id);
    if (!hash) return 'already seeded';
    await tenant.seedAdmin(org.adminEmail, hash);
    await this.deps.store.clearPendingAdminPasswordHash(org.id);
    return 'seeded';
  }

  private async recordFailure(org: Organization, step: ProvisioningStep, cause: unknown, options: ProvisionOptions): Promise<JobFailure> {
    const failure = jobFailureOf(step, cause);
    const { message, permanent } = failure;
    const final = permanent || options.isLastAttempt;
    this.deps.logger.error('provisioning step failed', { step, permanent, final, error: cause });
    try {
      if (final) {
        await this.deps.store.transition(org.id, 'failed', {
          step,
          detail: message,
          requestId: options.requestId,
          patch: { lastError: message },
        });
      } else {
        await this.deps.store.recordStep(org.id, 'provisioning', {
          step,
          detail: `will retry: ${message}`,
          requestId: options.requestId,
          patch: { lastError: message },
        });
      }
    } catch (recordError) {
      // The control database may be what failed; the retry (or the reconciler) records it later.
      this.deps.logger.warn('could not record the provisioning failure', { error: (recordError as Error).message });
    }
    return failure;
  }
}
