import type { DataSource, EntityManager } from 'typeorm';
import { type AuditAction, AuditLogStore } from '../audit/audit-log-store';
import { type Clock, fromNow, systemClock } from '../clock';
import { ConflictError, NotFoundError } from '../errors';
import type { OrganizationEventPublisher } from '../events/organization-events';
import { type KeysetPage, keysetPageBy } from '../keyset-page';
import { organizationNameKey } from '../organizations/organization-names';
import { RefreshTokenStore } from '../sign-in/refresh-token-store';
import { QUOTA_EXCEEDED_STEP, RESTORE_TEST_FAILED_STEP } from '../webhooks/webhook-events';
import { Organization } from './organization.entity';
import { OrganizationEvent } from './organization-event.entity';
import { appendOrganizationEvent, writeWebhookDeliveries } from './organization-event-rows';
import { mergedMetadata, type OrganizationMetadata, type OrganizationMetadataChanges } from './organization-metadata';
import { asOrganization, ORGANIZATION_COLUMNS, refusingTakenValues, selectOrganization, withNameKey } from './organization-rows';
import { type OrganizationSearch, organizationSearchClauses, type SortPosition, sortsByInstant } from './organization-search';
import { EDITABLE_STATUSES, INITIAL_STATUS, ORGANIZATION_STATUSES, type OrganizationStatus, RELEASED_STATUSES, statusesLeadingTo } from './organization-status';

/** A new organization as the API records it; the store adds its name key and initial status. */
export interface NewOrganization {
  id: string;
  name: string;
  slug: string;
  databaseName: string;
  adminEmail: string;
  /** The first admin's bcrypt hash; null for an organization restored from an archive or backup (its users come with it). */
  pendingAdminPasswordHash: string | null;
  restoredFromArchiveId?: string;
  /** A billing or CRM system's id for it (unique among organizations not purged: a 409 otherwise). */
  externalId?: string | null;
  metadata?: OrganizationMetadata;
}

export interface TransitionOptions {
  step?: string | null;
  detail?: string | null;
  requestId?: string | null;
  /**
   * The action to record in the audit log, by the request's caller, in the same transaction as
   * the change (so neither is ever written without the other).
   */
  audit?: AuditAction;
  /** Other columns to set in the same update. */
  patch?: Partial<
    Pick<
      Organization,
      | 'attempts'
      | 'lastError'
      | 'schemaVersion'
      | 'name'
      | 'slug'
      | 'adminEmail'
      | 'externalId'
      | 'metadata'
      | 'databaseServerId'
      | 'movingToServerId'
      | 'restoringBackupId'
      | 'preRestoreBackupId'
      | 'step'
      | 'deletedAt'
      | 'deletedFrom'
      | 'purgeAfter'
      | 'sessionGeneration'
      | 'pendingAdminPasswordHash'
    >
  >;
  /**
   * Narrows the table's legal sources for this change (a retry only from `failed`). Listing a
   * status the table does not lead from is a bug in the caller, refused before any query.
   */
  onlyFrom?: readonly OrganizationStatus[];
}

export interface DatabaseOwner {
  id: string;
  status: OrganizationStatus;
  databaseName: string;
  databaseServerId: string | null;
  movingToServerId: string | null;
}

async function liveCountsByServer(db: EntityManager): Promise<Map<string, number>> {
  // A moving organization counts on both servers: its copy on the target takes room too; a
  // deleted one counts until it is purged, since its database is kept for the grace period.
  const rows: { serverId: string; n: number }[] = await db.query(
    `SELECT server_id AS "serverId", count(*)::int AS n
       FROM (SELECT database_server_id AS server_id FROM organizations WHERE status <> 'purged'
             UNION ALL SELECT moving_to_server_id FROM organizations WHERE status = 'moving') placed
      WHERE server_id IS NOT NULL GROUP BY server_id`,
  );
  return new Map(rows.map((r) => [r.serverId, r.n]));
}

/** The columns a transition's `patch` may set, by entity property (withNameKey adds the name key). */
const PATCH_COLUMNS: Record<string, string> = {
  attempts: 'attempts',
  lastError: 'last_error',
  schemaVersion: 'schema_version',
  name: 'name',
  nameKey: 'name_key',
  slug: 'slug',
  adminEmail: 'admin_email',
  externalId: 'external_id',
  metadata: 'metadata',
  databaseServerId: 'database_server_id',
  movingToServerId: 'moving_to_server_id',
  restoringBackupId: 'restoring_backup_id',
  preRestoreBackupId: 'pre_restore_backup_id',
  step: 'step',
  deletedAt: 'deleted_at',
  deletedFrom: 'deleted_from',
  purgeAfter: 'purge_after',
  sessionGeneration: 'session_generation',
  pendingAdminPasswordHash: 'pending_admin_password_hash',
};

/**
 * A status change, its event and the changed row in ONE round trip instead of a six-statement
 * transaction: the row is locked, updated only if its status is in `from`, and the event is
 * written from the update's result, all in one statement (so all or nothing). Provisioning makes
 * several changes per organization, and each used to hold the row lock for six round trips.
 * Its webhook deliveries, if any, are the caller's to write (OrganizationStore#changeInOneStatementWithDeliveries).
 * Undefined when nothing changed (no such row, or a status not in `from`).
 */
async function changeInOneStatement(
  db: EntityManager,
  id: string,
  to: OrganizationStatus,
  from: readonly OrganizationStatus[],
  options: TransitionOptions,
): Promise<{ org: Organization; event: OrganizationEvent } | undefined> {
  const params: unknown[] = [id, to, from, options.step ?? null, options.detail ?? null, options.requestId ?? null];
  const sets = ['status = $2', 'updated_at = now()'];
  if (options.step !== undefined) sets.push('step = $4');
  for (const [property, value] of Object.entries(withNameKey(options.patch))) {
    const column = PATCH_COLUMNS[property];
    if (!column) throw new Error(`not a patchable organization column: ${property}`);
    if (value === undefined || (property === 'step' && options.step !== undefined)) continue;
    params.push(value);
    sets.push(`${column} = $${params.length}`);
  }
  const rows: (Record<string, unknown> & { eventId: string; eventAt: Date; fromStatus: OrganizationStatus })[] = await db.query(
    `WITH prev AS (SELECT id AS prev_id, status AS prev_status FROM organizations WHERE id = $1 FOR UPDATE),
          changed AS (
            UPDATE organizations SET ${sets.join(', ')} FROM prev
             WHERE organizations.id = prev.prev_id AND prev.prev_status = ANY($3)
            RETURNING ${ORGANIZATION_COLUMNS}, prev.prev_status AS "fromStatus"),
          event AS (
            INSERT INTO organization_events (org_id, from_status, to_status, step, detail, request_id)
            SELECT id, "fromStatus", $2, $4, $5, $6 FROM changed
            RETURNING id, at)
     SELECT changed.*, event.id::text AS "eventId", event.at AS "eventAt" FROM changed, event`,
    params,
  );
  if (rows.length === 0) return undefined;
  const { eventId, eventAt, fromStatus, ...columns } = rows[0];
  const event = Object.assign(new OrganizationEvent(), {
    id: eventId,
    orgId: id,
    at: eventAt,
    fromStatus,
    toStatus: to,
    step: options.step ?? null,
    detail: options.detail ?? null,
    requestId: options.requestId ?? null,
  });
  return { org: asOrganization(columns), event };
}

/** Whether `patch` gives the organization another name: an event without a status change is then `organization.renamed`. */
function renames(current: Organization, patch: TransitionOptions['patch']): boolean {
  return patch?.name !== undefined && patch.name !== current.name;
}

/** What an amendment changes, before and after, for its audit entry. */
function changesOf(current: Organization, patch: TransitionOptions['patch']): Record<string, unknown> {
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  if (renames(current, patch)) [before.name, after.name] = [current.name, patch?.name];
  if (patch?.adminEmail !== undefined && patch.adminEmail !== current.adminEmail)
    [before.admin_email, after.admin_email] = [current.adminEmail, patch.adminEmail];
  if (patch?.externalId !== undefined && patch.externalId !== current.externalId)
    [before.external_id, after.external_id] = [current.externalId, patch.externalId];
  if (patch?.metadata !== undefined) [before.metadata, after.metadata] = [current.metadata, patch.metadata];
  return { before, after };
}

/** Where `to` may be reached from: the table's sources, or the caller's narrower list. */
function sourcesOf(to: OrganizationStatus, onlyFrom: readonly OrganizationStatus[] | undefined): readonly OrganizationStatus[] {
  const legal = statusesLeadingTo(to);
  if (!onlyFrom) return legal;
  const illegal = onlyFrom.filter((from) => !legal.includes(from));
  if (illegal.length > 0) throw new Error(`not a legal organization transition: ${illegal.join(', ')} → ${to}`);
  return onlyFrom;
}

/**
 * The one owner of `organizations` and `organization_events`: every read and write of them goes
 * through here, in the API and in the worker. It enforces the transition table
 * (organization-status.ts): a change the table does not allow from the current status
 * is a 409 with `current_status`. Each change locks the row, so two writers cannot both win,
 * writes its event row and the webhook deliveries it causes in the same transaction, so neither
 * the audit trail nor a webhook ever misses one, and is published after commit, so every
 * replica's status streams hear it.
 */
export class OrganizationStore {
  /** `events` hears every committed status change (Redis pub/sub in the API and the worker). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly events?: OrganizationEventPublisher,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Records a new organization in its initial status with its first event; a taken name is a
   * 409. `place` picks its database server from the live organizations each server holds, read
   * under a lock that concurrent creations share, so no server takes more than its capacity.
   */
  async create(org: NewOrganization, options: { requestId: string; place: (liveByServer: Map<string, number>) => string }): Promise<Organization> {
    const { created, event } = await refusingTakenValues({ name: org.name, externalId: org.externalId }, () =>
      this.dataSource.transaction(async (manager) => {
        await manager.query(`SELECT pg_advisory_xact_lock(hashtext('orgms:placement'))`);
        const databaseServerId = options.place(await liveCountsByServer(manager));
        await manager
          .getRepository(Organization)
          .insert({ ...org, databaseServerId, nameKey: organizationNameKey(org.name), status: INITIAL_STATUS, attempts: 0 });
        const created = (await selectOrganization(manager, 'id = $1', [org.id])) as Organization;
        const event = await this.recordEvent(manager, created, null, { requestId: options.requestId, detail: 'requested', audit: 'organization.created' });
        return { created, event };
      }),
    );
    this.publish(created, event);
    return created;
  }

  async get(id: string): Promise<Organization> {
    const org = await selectOrganization(this.dataSource.manager, 'id = $1', [id]);
    if (!org) throw new NotFoundError(`Organization ${id} does not exist.`);
    return org;
  }

  /** Those of `ids` that exist, in one query (a fleet migration batch reads its organizations at once). */
  async getMany(ids: string[]): Promise<Organization[]> {
    const rows: object[] = await this.dataSource.query(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id = ANY($1::uuid[])`, [ids]);
    return rows.map(asOrganization);
  }

  /** The live (not deleted) organization with this id, if any. */
  async findLive(id: string): Promise<Organization | undefined> {
    return selectOrganization(this.dataSource.manager, `id = $1 AND status <> ALL($2)`, [id, RELEASED_STATUSES]);
  }

  /** The organization with this id unless it is purged (a deleted one still has its database and users). */
  async findUnpurged(id: string): Promise<Organization | undefined> {
    return selectOrganization(this.dataSource.manager, `id = $1 AND status <> 'purged'`, [id]);
  }

  /**
   * The live organization with this name as it looks: any case, full-width or decomposed
   * spellings, look-alike letters of other scripts (the name key, which the unique index also
   * uses). Names of deleted ones are free again.
   */
  async findLiveByName(name: string): Promise<Organization | undefined> {
    return selectOrganization(this.dataSource.manager, `name_key = $1 AND status <> ALL($2)`, [organizationNameKey(name), RELEASED_STATUSES]);
  }

  /**
   * One page of the organizations a search matches, in its sort (organization-search.ts), in one
   * SELECT. The name key is read along (never presented): a page sorted by name ends at its last
   * row's key, where the next one starts. created_at has millisecond precision, like a JS Date.
   */
  async list(search: OrganizationSearch): Promise<KeysetPage<Organization, SortPosition>> {
    const { where, orderBy, limit, params } = organizationSearchClauses(search);
    const rows: (Organization & { nameKey: string })[] = await this.dataSource.query(
      `SELECT ${ORGANIZATION_COLUMNS}, name_key AS "nameKey" FROM organizations ${where} ${orderBy} ${limit}`,
      params,
    );
    const byInstant = sortsByInstant(search.sort);
    return keysetPageBy(rows.map(asOrganization), search.limit, (last) => ({
      key: byInstant ? last.createdAt.toISOString() : last.nameKey,
      id: last.id,
    }));
  }

  /** Organizations holding a database on each server (all but purged ones): what placement and capacity count. */
  liveCountsByServer(): Promise<Map<string, number>> {
    return liveCountsByServer(this.dataSource.manager);
  }

  /** Ids of the organizations on `serverId` in `status`, oldest first: what a drain moves. */
  async idsOnServer(serverId: string, status: OrganizationStatus): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM organizations WHERE database_server_id = $1 AND status = $2 ORDER BY created_at, id`,
      [serverId, status],
    );
    return rows.map((r) => r.id);
  }

  /** Gives every organization recorded before the fleet existed to `serverId` (the `default` server). */
  async assignUnplacedTo(serverId: string): Promise<number> {
    const [, affected] = await this.dataSource.query(`UPDATE organizations SET database_server_id = $1 WHERE database_server_id IS NULL`, [serverId]);
    return affected;
  }

  async countByStatus(): Promise<Record<OrganizationStatus, number>> {
    const rows: { status: string; n: number }[] = await this.dataSource.query('SELECT status, count(*)::int AS n FROM organizations GROUP BY status');
    return Object.fromEntries(ORGANIZATION_STATUSES.map((status) => [status, rows.find((r) => r.status === status)?.n ?? 0])) as Record<
      OrganizationStatus,
      number
    >;
  }

  /**
   * Organizations in one of `statuses` untouched for `olderThanMs`: candidates for the
   * reconciler, with the request id that started them so their jobs keep logging under it.
   */
  async findStale(
    statuses: readonly OrganizationStatus[],
    olderThanMs: number,
    limit = 500,
  ): Promise<{ id: string; status: OrganizationStatus; requestId: string | null }[]> {
    return this.dataSource.query(
      `SELECT o.id, o.status,
              (SELECT e.request_id FROM organization_events e WHERE e.org_id = o.id AND e.request_id IS NOT NULL ORDER BY e.id LIMIT 1) AS "requestId"
         FROM organizations o
        WHERE o.status = ANY($1) AND o.updated_at <= now() - make_interval(secs => $2::double precision / 1000)
        ORDER BY o.updated_at
        LIMIT $3`,
      [statuses, olderThanMs, limit],
    );
  }

  /**
   * Every organization whose database should exist (or be on its way out), with the server that
   * holds it and, while moving, the one it is copied to: for orphan checks and PgBouncer entries.
   */
  async databaseOwners(): Promise<DatabaseOwner[]> {
    return this.dataSource.query(
      `SELECT id, status, database_name AS "databaseName", database_server_id AS "databaseServerId", moving_to_server_id AS "movingToServerId"
         FROM organizations WHERE status <> 'purged'`,
    );
  }

  /** Deleted organizations whose grace period has ended, oldest first: what the reconciler starts purging. */
  async dueForPurge(limit = 100): Promise<string[]> {
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM organizations WHERE status = 'deleted' AND purge_after <= $2::timestamptz ORDER BY purge_after LIMIT $1`,
      [limit, this.clock.now()],
    );
    return rows.map((r) => r.id);
  }

  /**
   * `deleted` at once, keeping the database until `graceMs` from now; the status it had is
   * remembered, since only an organization deleted while `active` has data to restore. Every
   * session of its users ends for good in the same transaction: their refresh tokens are revoked
   * and the session generation their access tokens carry is replaced, so a restore (after a
   * compromise, say) brings none of them back.
   */
  async markDeleted(id: string, options: { requestId: string; graceMs: number }): Promise<Organization> {
    const { org, event } = await this.dataSource.transaction(async (manager) => {
      const deleted = await this.changeIn(manager, id, 'deleted', statusesLeadingTo('deleted'), (current) => {
        const now = this.clock.now();
        return {
          step: 'deleted',
          requestId: options.requestId,
          detail: 'deleted; the database is kept until the grace period ends',
          audit: 'organization.deleted',
          patch: {
            deletedAt: now,
            deletedFrom: current.status,
            purgeAfter: fromNow(this.clock, options.graceMs),
            sessionGeneration: current.sessionGeneration + 1,
          },
        };
      });
      await RefreshTokenStore.revokeOrganization(manager, id);
      return deleted;
    });
    this.publish(org, event);
    // Its users are refused from now on: every API replica closes its pools to the database.
    this.events?.publish({ type: 'evict', orgId: id });
    return org;
  }

  /**
   * `deleted → active` within the grace period, optionally under a new name (the old one may have
   * been taken since: a 409). Only an organization deleted while active comes back: the others
   * never had a working database.
   */
  async restore(id: string, options: { requestId: string; name?: string; slug?: string }): Promise<Organization> {
    // Names the name that is taken in the 409: the new one, or the one it had.
    const name = options.name ?? (await this.get(id)).name;
    const { org, event } = await refusingTakenValues({ name }, () =>
      this.dataSource.transaction((manager) =>
        this.changeIn(manager, id, 'active', ['deleted'], (current) => {
          if (current.deletedFrom !== 'active') {
            throw new ConflictError(`Organization ${id} was deleted while ${current.deletedFrom}; only an organization deleted while active can be restored.`, {
              current_status: current.status,
            });
          }
          const renamed = options.name === undefined ? {} : { name: options.name, slug: options.slug };
          return {
            step: 'restored',
            requestId: options.requestId,
            detail: 'restored',
            patch: { ...renamed, deletedAt: null, deletedFrom: null, purgeAfter: null, lastError: null },
            audit: 'organization.restored',
          };
        }),
      ),
    );
    this.publish(org, event);
    return org;
  }

  /** The schema version of every active organization: what a fleet migration run covers. */
  async activeSchemaVersions(): Promise<{ id: string; schemaVersion: string | null; databaseServerId: string | null }[]> {
    return this.dataSource.query(
      `SELECT id, schema_version AS "schemaVersion", database_server_id AS "databaseServerId" FROM organizations WHERE status = 'active'`,
    );
  }

  /** The first admin's password hash, which is not selected by default. */
  async pendingAdminPasswordHash(id: string): Promise<string | null> {
    const [row]: { hash: string | null }[] = await this.dataSource.query('SELECT pending_admin_password_hash AS hash FROM organizations WHERE id = $1', [id]);
    return row?.hash ?? null;
  }

  /**
   * Moves `id` to `to` if the table allows it from the current status (and `onlyFrom`, when
   * given, lists it); otherwise a ConflictError with the current status.
   */
  async transition(id: string, to: OrganizationStatus, options: TransitionOptions = {}): Promise<Organization> {
    const from = sourcesOf(to, options.onlyFrom);
    // One statement does the common case; a refusal is explained by the locking path, which
    // throws the 404 or 409 (or succeeds, if the row changed in between). An audited change takes
    // the locking path too: its audit entry is written in that transaction; so does a new name,
    // which only the locked row tells apart from the old one (a rename is a webhook).
    const { org, event } =
      (options.audit || options.patch?.name !== undefined ? undefined : await this.changeInOneStatementWithDeliveries(id, to, from, options)) ??
      (await this.dataSource.transaction((manager) => this.changeIn(manager, id, to, from, () => options)));
    this.publish(org, event);
    return org;
  }

  /**
   * `active → moving` towards the server `place` picks (it may refuse by throwing: full, or the
   * organization's own server), under the placement lock that creations take too, so the copy
   * the move makes never takes a server past its capacity. Moving counts on both servers until
   * it ends (liveCountsByServer).
   */
  async startMove(
    id: string,
    options: { requestId: string; detail?: string; place: (liveByServer: Map<string, number>, org: Organization) => string },
  ): Promise<Organization> {
    const { org, event } = await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('orgms:placement'))`);
      return this.changeIn(manager, id, 'moving', sourcesOf('moving', ['active']), async (current) => {
        const target = options.place(await liveCountsByServer(manager), current);
        return {
          step: null,
          requestId: options.requestId,
          detail: options.detail ?? 'move requested',
          patch: { movingToServerId: target, lastError: null },
          audit: 'organization.moved',
        };
      });
    });
    this.publish(org, event);
    return org;
  }

  /** Records a step (and `patch`) while the organization stays `status`; a ConflictError once it has left it. */
  recordStep(id: string, status: OrganizationStatus, options: Omit<TransitionOptions, 'onlyFrom'> = {}): Promise<Organization> {
    return this.transition(id, status, { ...options, onlyFrom: [status] });
  }

  /**
   * Changes columns other than the status (rename, admin email, external id, metadata) while the
   * organization is editable, recording an event without a status change. A taken name or
   * external id is a 409. `metadataChanges` are merged into the current map under the row lock
   * (null removes a key), and a map that would go over its limits is a 400 that changes nothing.
   */
  async amend(
    id: string,
    patch: TransitionOptions['patch'],
    options: Omit<TransitionOptions, 'patch' | 'onlyFrom'> & { metadataChanges?: OrganizationMetadataChanges } = {},
  ): Promise<Organization> {
    const { metadataChanges, ...eventOptions } = options;
    const amended = await refusingTakenValues({ name: patch?.name, externalId: patch?.externalId }, () =>
      this.dataSource.transaction(async (manager) => {
        const current = await this.lockIn(manager, id, EDITABLE_STATUSES, 'it cannot be changed');
        const changes = metadataChanges ? { ...patch, metadata: mergedMetadata(current.metadata, metadataChanges) } : patch;
        await manager.getRepository(Organization).update({ id }, withNameKey(changes));
        const amended = (await selectOrganization(manager, 'id = $1', [id])) as Organization;
        await this.recordEvent(manager, amended, current.status, eventOptions, { changes: changesOf(current, changes), renamed: renames(current, changes) });
        return amended;
      }),
    );
    this.events?.publish({ type: 'changed', orgId: id });
    return amended;
  }

  /**
   * Records that the organization went over a quota: an event without a status change (the
   * webhook `organization.quota_exceeded`) and its audit entry, in one transaction.
   */
  async recordQuotaExceeded(id: string, excess: { quota: string; limit: number; usage: number }): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const org = await selectOrganization(manager, 'id = $1', [id]);
      if (!org) throw new NotFoundError(`Organization ${id} does not exist.`);
      const detail = `${excess.quota} ${excess.usage} is over its quota of ${excess.limit}`;
      await this.recordEvent(manager, org, org.status, { step: QUOTA_EXCEEDED_STEP, detail, audit: 'organization.quota_exceeded' }, { changes: excess });
    });
  }

  /**
   * Records that a restore drill of one of the organization's backups failed: an event without a
   * status change (the webhook `backup.restore_test_failed`) and its audit entry, in one transaction.
   */
  async recordRestoreTestFailed(id: string, failure: { backupId: string; reason: string }): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const org = await selectOrganization(manager, 'id = $1', [id]);
      if (!org) throw new NotFoundError(`Organization ${id} does not exist.`);
      const detail = `backup ${failure.backupId}: ${failure.reason}`;
      await this.recordEvent(manager, org, org.status, { step: RESTORE_TEST_FAILED_STEP, detail, audit: 'backup.restore_test_failed' }, { changes: failure });
    });
  }

  async setSchemaVersion(id: string, schemaVersion: string): Promise<void> {
    await this.setSchemaVersions([id], schemaVersion);
  }

  /** One statement for several organizations (a fleet migration batch records what it migrated so far at once). */
  async setSchemaVersions(ids: string[], schemaVersion: string): Promise<void> {
    await this.dataSource.query('UPDATE organizations SET schema_version = $2, updated_at = now() WHERE id = ANY($1::uuid[])', [ids, schemaVersion]);
    for (const id of ids) this.events?.publish({ type: 'changed', orgId: id });
  }

  async clearPendingAdminPasswordHash(id: string): Promise<void> {
    await this.dataSource.getRepository(Organization).update({ id }, { pendingAdminPasswordHash: null });
  }

  /** The id of the newest event of `orgId` ("0" when none): where an event stream starts. */
  async lastEventId(orgId: string): Promise<string> {
    const [row] = await this.dataSource.query(`SELECT coalesce(max(id), 0)::text AS id FROM organization_events WHERE org_id = $1`, [orgId]);
    return row.id;
  }

  /** Events of `orgId` after `afterId`, oldest first: an SSE client resuming with Last-Event-ID. */
  async eventsAfter(orgId: string, afterId: string, limit = 200): Promise<OrganizationEvent[]> {
    return this.dataSource
      .getRepository(OrganizationEvent)
      .createQueryBuilder('e')
      .where('e.org_id = :orgId AND e.id > :afterId', { orgId, afterId })
      .orderBy('e.id', 'ASC')
      .take(limit)
      .getMany();
  }

  /**
   * One status change inside `manager`'s transaction: locks the row (a 409 unless it is in
   * `from`), asks `optionsFor` what to write given the current row, updates it and records the event.
   */
  private async changeIn(
    manager: EntityManager,
    id: string,
    to: OrganizationStatus,
    from: readonly OrganizationStatus[],
    optionsFor: (current: Organization) => TransitionOptions | Promise<TransitionOptions>,
  ): Promise<{ org: Organization; event: OrganizationEvent }> {
    const current = await this.lockIn(manager, id, from, `it cannot become ${to}`);
    const options = await optionsFor(current);
    const changes = { ...withNameKey(options.patch), status: to, ...(options.step !== undefined ? { step: options.step } : {}) };
    await manager.getRepository(Organization).update({ id }, changes);
    const org = (await selectOrganization(manager, 'id = $1', [id])) as Organization;
    const event = await this.recordEvent(manager, org, current.status, options, { renamed: renames(current, options.patch) });
    return { org, event };
  }

  /**
   * A change by changeInOneStatement. A step alone (the status cannot change) is never a webhook
   * and stays one round trip; a status change is written in a transaction with its webhook
   * deliveries, which need the event's id and the changed row the statement answers.
   */
  private changeInOneStatementWithDeliveries(
    id: string,
    to: OrganizationStatus,
    from: readonly OrganizationStatus[],
    options: TransitionOptions,
  ): Promise<{ org: Organization; event: OrganizationEvent } | undefined> {
    if (from.every((status) => status === to)) return changeInOneStatement(this.dataSource.manager, id, to, from, options);
    return this.dataSource.transaction(async (manager) => {
      const changed = await changeInOneStatement(manager, id, to, from, options);
      if (changed) await writeWebhookDeliveries(manager, changed.event, changed.org, false);
      return changed;
    });
  }

  /** Locks the organization's row; a ConflictError unless it is in one of `allowed`. */
  private async lockIn(manager: EntityManager, id: string, allowed: readonly OrganizationStatus[], refusal: string): Promise<Organization> {
    const current = await selectOrganization(manager, 'id = $1', [id], { forUpdate: true });
    if (!current) throw new NotFoundError(`Organization ${id} does not exist.`);
    if (!allowed.includes(current.status)) {
      // `current_status`, not `status`: a problem's `status` is the HTTP status code.
      throw new ConflictError(`Organization ${id} is ${current.status}; ${refusal}.`, { current_status: current.status });
    }
    return current;
  }

  /**
   * The event of a change to `org` (as it is after it), with its audit entry when `options` asks
   * for one and its webhook deliveries; `renamed`: the change gave it another name.
   */
  private async recordEvent(
    manager: EntityManager,
    org: Organization,
    fromStatus: OrganizationStatus | null,
    options: Omit<TransitionOptions, 'patch' | 'onlyFrom'>,
    { changes = {}, renamed = false }: { changes?: Record<string, unknown>; renamed?: boolean } = {},
  ): Promise<OrganizationEvent> {
    const [orgId, toStatus] = [org.id, org.status];
    if (options.audit) {
      await new AuditLogStore(manager, this.clock).record({
        action: options.audit,
        orgId,
        target: { type: 'organization', id: orgId },
        requestId: options.requestId,
        details: { from_status: fromStatus, to_status: toStatus, ...(options.detail ? { detail: options.detail } : {}), ...changes },
      });
    }
    const fields = { fromStatus, toStatus, step: options.step ?? null, detail: options.detail ?? null, requestId: options.requestId ?? null };
    return appendOrganizationEvent(manager, org, fields, renamed);
  }

  /** After commit only: a listener must never see a change that was rolled back. */
  private publish(org: Organization, event: OrganizationEvent): void {
    this.events?.publish({
      type: 'status',
      orgId: org.id,
      eventId: event.id,
      from: event.fromStatus as OrganizationStatus | null,
      status: org.status,
      step: org.step,
      detail: event.detail,
      at: (event.at ?? new Date()).toISOString(),
    });
  }
}
