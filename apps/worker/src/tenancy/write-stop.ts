import { setTimeout as sleep } from 'node:timers/promises';
import type { OrganizationEventPublisher } from '@orgms/common/events/organization-events';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { PgBouncerDatabases } from '../fleet/pgbouncer-databases';
import type { DatabaseAdmin } from './database-admin';

/** How often the session wait looks again. */
const SESSION_POLL_MS = 100;

export interface WriteStopDeps {
  events: OrganizationEventPublisher;
  pgbouncer?: PgBouncerDatabases;
  /** MOVE_SESSION_GRACE_MS: how long sessions opened before writes stopped may finish. */
  sessionGraceMs: number;
}

/**
 * Stops writes to an organization's database before it is copied (a move) or replaced (an
 * in-place restore): new sessions are read-only, API replicas close their pools, and sessions
 * opened before end (idle ones at once, busy ones after the grace). Then every write that was
 * answered 2xx is committed, and none can commit any more; reads go on.
 */
export async function stopWrites(deps: WriteStopDeps, org: Pick<Organization, 'id' | 'databaseName'>, admin: DatabaseAdmin): Promise<void> {
  await admin.setReadOnly(org.databaseName, true);
  const stoppedAt = await admin.serverNow();
  deps.events.publish({ type: 'evict', orgId: org.id });
  await deps.pgbouncer?.reconnect(org.databaseName);
  await endSessions(admin, org.databaseName, deps.sessionGraceMs, stoppedAt);
}

/** Waits for the sessions on `database` (those started before `startedBefore`, when given) to end; after `graceMs`, ends them. */
export async function endSessions(admin: DatabaseAdmin, database: string, graceMs: number, startedBefore?: Date): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const sessions = await admin.sessionsOn(database, startedBefore);
    if (sessions.length === 0) return;
    const overdue = Date.now() >= deadline;
    await admin.terminate(sessions.filter((s) => overdue || s.state === 'idle').map((s) => s.pid));
    await sleep(SESSION_POLL_MS);
  }
}
