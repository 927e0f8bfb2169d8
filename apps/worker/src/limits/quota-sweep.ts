import type { Clock } from '@orgms/common/clock';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import { effectiveLimits, type OrganizationLimits } from '@orgms/common/limits/organization-limits';
import type { OrganizationLimitsStore } from '@orgms/common/limits/organization-limits-store';
import { databaseOverQuota } from '@orgms/common/limits/quotas';
import type { Logger } from '@orgms/common/logger';
import type { DatabaseOwner, OrganizationStore } from '@orgms/common/organizations/organization-store';
import { Client } from 'pg';
import type { OrganizationServers } from '../fleet/organization-servers';
import { organizationsOverQuotaGauge } from '../metrics';

export interface QuotaSweepDeps {
  /** The configured limits every organization has unless overridden. */
  defaults: OrganizationLimits;
  servers: OrganizationServers;
  store: Pick<OrganizationStore, 'databaseOwners' | 'recordQuotaExceeded'>;
  limits: Pick<OrganizationLimitsStore, 'quotaStates' | 'recordDatabaseSizes' | 'markOverQuota' | 'countOverQuota'>;
  clock: Clock;
  logger: Logger;
}

export type QuotaSweepSummary = {
  sampled: number;
  /** Organizations found over their database quota by this pass (each announced once). */
  overQuota: string[];
  /** Organizations back under it. */
  backUnder: string[];
  unreachableServers: string[];
};

/** The sizes of `names` on one server: one catalog query, on a short-lived admin connection. */
async function databaseSizes(server: DatabaseServer, names: string[]): Promise<Map<string, number>> {
  const client = new Client({ connectionString: server.adminUrl, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined); // a terminated session surfaces on the query instead
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string; bytes: string }>(
      'SELECT datname, pg_database_size(datname) AS bytes FROM pg_database WHERE datname = ANY($1)',
      [names],
    );
    return new Map(rows.map((row) => [row.datname, Number(row.bytes)]));
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Samples the database size of every active organization (one query per server), records it and
 * marks or unmarks each organization over its database quota. Going over is announced once, with
 * the event `organization.quota_exceeded` (webhooks) and its audit entry, written before the mark:
 * a crash in between announces it again on the next pass rather than never. Marks of organizations
 * that were deleted are dropped; those on an unreachable server keep theirs until it answers.
 */
export async function sweepQuotas(deps: QuotaSweepDeps): Promise<QuotaSweepSummary> {
  const { store, limits, logger } = deps;
  const owners = await store.databaseOwners();
  const active = owners.filter((owner) => owner.status === 'active' && owner.databaseServerId);
  const summary: QuotaSweepSummary = { sampled: 0, overQuota: [], backUnder: [], unreachableServers: [] };
  const sizes = new Map<string, number>();
  for (const server of await deps.servers.directory.inService()) {
    const here = active.filter((owner) => owner.databaseServerId === server.id);
    if (here.length === 0) continue;
    const orgOf = new Map(here.map((owner): [string, DatabaseOwner] => [owner.databaseName, owner]));
    try {
      for (const [name, bytes] of await databaseSizes(server, [...orgOf.keys()])) sizes.set((orgOf.get(name) as DatabaseOwner).id, bytes);
    } catch (error) {
      logger.warn('could not sample database sizes on a database server', { server: server.name, error: (error as Error).message });
      summary.unreachableServers.push(server.name);
    }
  }
  await limits.recordDatabaseSizes(sizes, deps.clock.now());
  summary.sampled = sizes.size;

  const states = await limits.quotaStates();
  for (const [orgId, bytes] of sizes) {
    const state = states.get(orgId);
    const excess = databaseOverQuota(effectiveLimits(deps.defaults, { quotas: state?.quotas }).quotas, bytes);
    if (excess && !state?.overQuotaSince) {
      await store.recordQuotaExceeded(orgId, excess);
      await limits.markOverQuota(orgId, true);
      logger.warn('organization over its database quota', { orgId, ...excess });
      summary.overQuota.push(orgId);
    } else if (!excess && state?.overQuotaSince && (await limits.markOverQuota(orgId, false))) {
      summary.backUnder.push(orgId);
    }
  }
  // A move keeps the mark (it is active again after it); a deletion drops it.
  const serving = new Set(owners.filter((owner) => owner.status === 'active' || owner.status === 'moving').map((owner) => owner.id));
  for (const [orgId, state] of states) {
    if (state.overQuotaSince && !serving.has(orgId)) await limits.markOverQuota(orgId, false);
  }
  organizationsOverQuotaGauge.set(await limits.countOverQuota());
  return summary;
}
