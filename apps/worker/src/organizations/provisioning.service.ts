import type { TenancyConfig } from '@orgms/common/config';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { canTransition, PROVISIONING_STEPS, type ProvisioningStep } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { latestTenantMigration } from '@orgms/migrations';
import type { ArchiveRestorer } from '../data-safety/archive-restore';
import type { OrganizationServers } from '../fleet/organization-servers';
import type { PgBouncerDatabases } from '../fleet/pgbouncer-databases';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { DatabaseAdmin, type EnsureDatabaseOutcome } from '../tenancy/database-admin';
import type { SpareDatabases } from '../tenancy/spare-databases';
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
  /** Spare databases claimed instead of cloning (SPARE_DATABASES); without them every database is cloned or created. */
  spares?: Pick<SpareDatabases, 'claim'>;
  /** Fills the database of an organization recreated from an archive (`restoredFromArchiveId`). */
  archives: ArchiveRestorer;
  logger: Logger;
  /** Called before each step; tests use it to interrupt provisioning at a chosen point. */
  beforeStep?: (step: ProvisioningStep, orgId: string) => Promise<void> | void;
}

/** One provisioning run: the organization, and what its steps found and opened. */
interface ProvisioningRun {
  org: Organization;
  requestId: string;
  server?: DatabaseServer;
  made?: EnsureDatabaseOutcome;
  tenant?: ProvisioningConnection;
}

/**
 * Turns a `pending` (or `failed`, on retry) organization into an `active` one with its own
 * database. Every step is idempotent, so the job runs them all again after a crash at any point.
 */
export class ProvisioningService {
  /** The provisioning pipeline: a failure is retried, and a final one leaves the organization `failed`. */
  readonly pipeline: Pipeline<ProvisioningRun, ProvisioningStep> = {
    name: 'provisioning',
    order: PROVISIONING_STEPS,
    steps: {
      create_database: {
        run: async (run) => {
          run.server = await this.deps.servers.of(run.org);
          run.made = await this.createDatabase(run.org, run.server, run.requestId);
          return run.made;
        },
      },
      database_role: {
        run: async (run) => {
          const server = run.server as DatabaseServer;
          // A claimed spare's role became the organization's in the claim's transaction: only the record is left.
          const provided = run.made === 'claimed' ? await this.deps.roles.recordGranted(run.org, server) : await this.deps.roles.provide(run.org, server);
          // Migrations and seeding connect as the organization's own role, just provided.
          run.tenant = await openProvisioningConnection(await this.deps.roles.tenantUrl(run.org, server), run.made === 'cloned' || run.made === 'claimed');
          return provided;
        },
      },
      // The schema version is recorded with the activation (one write less on the request's path); nothing reads it before.
      migrate: { run: (run) => (run.tenant as ProvisioningConnection).migrate() },
      seed_admin: { run: (run) => this.seedAdmin(run.org, run.tenant as ProvisioningConnection) },
      activate: {
        run: ({ org, requestId }) =>
          this.deps.store.transition(org.id, 'active', {
            step: 'activate',
            requestId,
            patch: { lastError: null, schemaVersion: latestTenantMigration, pendingAdminPasswordHash: null },
          }),
      },
    },
    enter: ({ org, requestId }, step) => this.deps.store.recordStep(org.id, 'provisioning', { step, requestId }),
    recordFailure: ({ org, requestId }, { step, failure, final }) =>
      final
        ? this.deps.store.transition(org.id, 'failed', { step, detail: failure.message, requestId, patch: { lastError: failure.message } })
        : this.deps.store.recordStep(org.id, 'provisioning', {
            step,
            detail: `will retry: ${failure.message}`,
            requestId,
            patch: { lastError: failure.message },
          }),
  };

  constructor(private readonly deps: ProvisioningDeps) {}

  async provision(orgId: string, options: ProvisionOptions): Promise<ProvisionOutcome> {
    const { store, logger, beforeStep } = this.deps;
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
    const run: ProvisioningRun = { org, requestId: options.requestId };
    const { onStep } = options;
    try {
      await runPipeline(this.pipeline, run, {
        logger,
        isLastAttempt: options.isLastAttempt,
        onStep: onStep && ((step) => onStep(step, org)),
        beforeStep: beforeStep && ((step) => beforeStep(step, org.id)),
      });
    } finally {
      await run.tenant?.close();
    }
    logger.info('organization active', { attempts: org.attempts });
    return 'activated';
  }

  /**
   * Claims a spare database when one is ready (docs/operations/fleet-and-capacity.md, "Spare databases"), else clones the
   * template when it is current (docs/architecture.md, "Template fast path"), else creates an empty database; the
   * migrate step runs either way. `stillWanted` closes the race with a concurrent DELETE: the
   * database is created only if, under the organization lock, the org is still provisioning.
   */
  private async createDatabase(org: Organization, server: DatabaseServer, requestId: string): Promise<EnsureDatabaseOutcome> {
    const { tenancy, store, logger } = this.deps;
    const admin = await DatabaseAdmin.connect(server.adminUrl);
    const stillWanted = async () => (await store.get(org.id)).status === 'provisioning';
    try {
      // A spare is the organization's database in one rename; without one left it is cloned as before.
      const claimed = !org.restoredFromArchiveId && (await this.deps.spares?.claim(org, server, admin, stillWanted));
      const outcome: EnsureDatabaseOutcome = claimed
        ? 'claimed'
        : await admin.ensureDatabase(org.id, org.databaseName, {
            template: tenancy.templateEnabled ? currentTemplate(tenancy.databasePrefix) : undefined,
            onTemplateFallback: (reason) => logger.warn('template not used; creating an empty database', { reason }),
            stillWanted,
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

  /** Upserts the first admin from the hash kept in the control database (forgotten when the organization is activated). */
  private async seedAdmin(org: Organization, tenant: ProvisioningConnection): Promise<string> {
    const hash = await this.deps.store.pendingAdminPasswordHash(org.id);
    if (!hash) return 'already seeded';
    // The hash is forgotten with the activation (one write less); seeding again before it changes nothing.
    await tenant.seedAdmin(org.adminEmail, hash);
    return 'seeded';
  }
}
