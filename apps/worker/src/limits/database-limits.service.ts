import type { DatabaseLimits, LimitsConfig } from '@orgms/common/config';
import type { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { defaultLimits, effectiveLimits, type LimitOverrides } from '@orgms/common/limits/organization-limits';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import type { OrganizationServers } from '../fleet/organization-servers';
import { JobFailure } from '../job-failure';
import type { TenantRoles } from '../tenancy/tenant-roles';

/** An organization's overrides, as OrganizationLimitsStore reads them. */
export type OverridesOf = (orgId: string) => Promise<LimitOverrides>;

/** The database limits of one organization: the configured defaults with its overrides on top. */
export function databaseLimitsOf(config: LimitsConfig, overridesOf: OverridesOf): (orgId: string) => Promise<DatabaseLimits> {
  const defaults = defaultLimits(config);
  return async (orgId) => effectiveLimits(defaults, await overridesOf(orgId)).database;
}

/** What applying an organization's limits did; all but `applied` leave its role as it was. */
export type ApplyLimitsOutcome = 'applied' | 'shared' | 'no_role' | 'gone';

export interface DatabaseLimitsDeps {
  store: Pick<OrganizationStore, 'findLive' | 'activeSchemaVersions'>;
  servers: Pick<OrganizationServers, 'of'>;
  roles: Pick<TenantRoles, 'applyLimits'>;
  runs: TrackedRunStore;
  logger: Logger;
}

/**
 * Sets organizations' database limits on their roles after provisioning: one organization (its
 * overrides changed) or every active one, as a tracked run (organizations made before the limits
 * existed, or after the defaults changed). Provisioning itself sets them when it makes the role.
 */
export class DatabaseLimitsService {
  constructor(private readonly deps: DatabaseLimitsDeps) {}

  async applyTo(orgId: string): Promise<ApplyLimitsOutcome> {
    const org = await this.deps.store.findLive(orgId);
    if (!org?.databaseServerId) return 'gone';
    const outcome = await this.deps.roles.applyLimits(org, await this.deps.servers.of(org));
    this.deps.logger.info('organization database limits', { orgId, outcome });
    return outcome;
  }

  /** Plans every active organization once, then applies each in turn; a re-run continues with those still pending. */
  async applyToFleet(runId: string): Promise<Record<'succeeded' | 'failed' | 'skipped', number>> {
    const { runs, store, logger } = this.deps;
    const run = await runs.get('database_limits', runId);
    const report = { succeeded: 0, failed: 0, skipped: 0 };
    if (run.status === 'completed') return report;
    const pending = await runs.plan(
      runId,
      (await store.activeSchemaVersions()).map(({ id }) => ({ orgId: id })),
    );
    for (const orgId of pending) {
      try {
        const outcome = await this.applyTo(orgId);
        if (outcome === 'applied') {
          await runs.finishItem(runId, orgId, 'succeeded');
          report.succeeded += 1;
        } else {
          await runs.finishItem(runId, orgId, 'skipped', SKIP_REASONS[outcome]);
          report.skipped += 1;
        }
      } catch (error) {
        const message = error instanceof JobFailure ? error.message : 'unexpected error; see the worker log';
        logger.warn('could not apply an organization database limits', { orgId, error });
        await runs.finishItem(runId, orgId, 'failed', message);
        report.failed += 1;
      }
    }
    await runs.complete(runId);
    logger.info('database limits applied to the fleet', { runId, ...report });
    return report;
  }
}

const SKIP_REASONS: Record<Exclude<ApplyLimitsOutcome, 'applied'>, string> = {
  shared: "its server has no organization roles: it shares the server's role, which has no per-organization limits",
  no_role: 'its role is not made yet',
  gone: 'the organization no longer exists',
};
