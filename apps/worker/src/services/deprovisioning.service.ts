import type { OrganizationStore } from '@orgms/common/control-plane/organization-store';
import { canTransition } from '@orgms/common/entities/organization-status';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { Logger } from '@orgms/common/logger';
import { jobFailureOf } from '../job-failure';
import { DatabaseAdmin } from '../tenancy/database-admin';
import type { OrganizationServers } from '../tenancy/organization-servers';
import type { PgBouncerDatabases } from '../tenancy/pgbouncer-databases';

export interface DeprovisioningDeps {
  servers: OrganizationServers;
  pgbouncer?: PgBouncerDatabases;
  store: OrganizationStore;
  events: OrganizationEventPublisher;
  logger: Logger;
}

export type DeprovisionOutcome = 'deleted' | 'skipped';

/**
 * Turns a `deleting` organization into a `deleted` tombstone: every API replica drops its
 * pools, the database is dropped with its remaining connections, and the partial unique index
 * frees the name. Every step converges when repeated (a missing database is already dropped).
 */
export class DeprovisioningService {
  constructor(private readonly deps: DeprovisioningDeps) {}

  async deprovision(orgId: string, options: { requestId: string }): Promise<DeprovisionOutcome> {
    const { store, logger, events } = this.deps;
    const org = await store.get(orgId);
    if (!canTransition(org.status, 'deleted')) {
      logger.info('nothing to deprovision', { status: org.status });
      return 'skipped';
    }
    try {
      await store.recordStep(orgId, 'deleting', { step: 'drop_database', requestId: options.requestId });
      // Pools first (on every API replica, via pub/sub); DROP … WITH (FORCE) then ends whatever is left.
      events.publish({ type: 'evict', orgId });
      const server = await this.deps.servers.of(org);
      const admin = await DatabaseAdmin.connect(server.adminUrl);
      let dropped: { dropped: string[]; foreign: string[] };
      try {
        dropped = await admin.dropDatabase(org.id, org.databaseName);
      } finally {
        await admin.close();
      }
      if (dropped.foreign.length > 0) logger.warn('left a database that is not ours untouched', { databases: dropped.foreign });
      await this.deps.pgbouncer?.sync();
      await store.clearPendingAdminPasswordHash(orgId);
      await store.transition(orgId, 'deleted', {
        step: 'deleted',
        requestId: options.requestId,
        detail: dropped.dropped.length > 0 ? 'database dropped' : 'no database to drop',
        patch: { lastError: null },
      });
      logger.info('organization deleted', { dropped: dropped.dropped });
      return 'deleted';
    } catch (cause) {
      const failure = jobFailureOf('drop_database', cause);
      logger.error('deprovisioning failed', { permanent: failure.permanent, error: cause });
      // The org stays `deleting` (there is no way back); the reconciler re-enqueues it later.
      await store
        .recordStep(orgId, 'deleting', { step: 'drop_database', requestId: options.requestId, detail: failure.message, patch: { lastError: failure.message } })
        .catch(() => undefined);
      throw failure;
    }
  }
}
