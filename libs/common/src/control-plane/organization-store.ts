import { type DataSource, type EntityManager, In } from 'typeorm';
import { EDITABLE_STATUSES, Organization, OrganizationEvent, type OrganizationStatus, statusesLeadingTo } from '../entities';
import { ConflictError, NotFoundError } from '../errors';
import type { OrganizationEventPublisher } from '../events/organization-events';
import { organizationNameKey } from '../organizations/organization-names';

/** The selectable columns of `organizations`, named like the entity's properties. */
const ORGANIZATION_COLUMNS = `id, name, slug, database_name AS "databaseName", status, step, attempts, last_error AS "lastError",
  admin_email AS "adminEmail", schema_version AS "schemaVersion", created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * One organization by id with one plain parameterized SELECT (optionally locking the row). Every
 * organization-scoped request and every provisioning step reads it, and TypeORM's query builder
 * cost more CPU than the query itself.
 */
async function selectOrganization(db: EntityManager, id: string, options: { forUpdate?: boolean } = {}): Promise<Organization | undefined> {
  const rows: Organization[] = await db.query(`SELECT ${ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1${options.forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return rows.length === 0 ? undefined : Object.assign(new Organization(), rows[0]);
}

/** The columns to write for `patch`: a new name brings its name key, which the unique index compares. */
function withNameKey(patch: TransitionOptions['patch']): Partial<Organization> {
  return patch?.name === undefined ? { ...patch } : { ...patch, nameKey: organizationNameKey(patch.name) };
}

export interface TransitionOptions {
  step?: string | null;
  detail?: string | null;
  requestId?: string | null;
  /** Other columns to set in the same update. */
  patch?: Partial<Pick<Organization, 'attempts' | 'lastError' | 'schemaVersion' | 'name' | 'slug' | 'adminEmail'>>;
  /**
   * Narrows the table's legal sources for this change (a retry only from `failed`). Listing a
   * status the table does not lead from is a bug in the caller, refused before any query.
   */
  onlyFrom?: readonly OrganizationStatus[];
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
 * The one place that changes an organization's status, and it enforces the transition table
 * (entities/organization-status.ts): a change the table does not allow from the current status
 * is a 409 with `current_status`. Each change locks the row, so two writers cannot both win,
 * and writes its event row in the same transaction, so the audit trail never misses one.
 */
export class OrganizationStore {
  /** `events` hears every committed status change (Redis pub/sub in the API and the worker). */
  constructor(
    private readonly dataSource: DataSource,
    private readonly events?: OrganizationEventPublisher,
  ) {}

  async get(id: string): Promise<Organization> {
    const org = await selectOrganization(this.dataSource.manager, id);
    if (!org) throw new NotFoundError(`Organization ${id} does not exist.`);
    return org;
  }

  /** The first admin's password hash, which is not selected by default. */
  async pendingAdminPasswordHash(id: string): Promise<string | null> {
    const row = await this.dataSource
      .getRepository(Organization)
      .createQueryBuilder('o')
      .select('o.pending_admin_password_hash', 'hash')
      .where('o.id = :id', { id })
      .getRawOne<{ hash: string | null }>();
    return row?.hash ?? null;
  }

  async setSchemaVersion(id: string, schemaVersion: string): Promise<void> {
    await this.dataSource.getRepository(Organization).update({ id }, { schemaVersion });
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

  async clearPendingAdminPasswordHash(id: string): Promise<void> {
    await this.dataSource.getRepository(Organization).update({ id }, { pendingAdminPasswordHash: null });
  }

  /**
   * Moves `id` to `to` if the table allows it from the current status (and `onlyFrom`, when
   * given, lists it); otherwise a ConflictError with the current status.
   */
  async transition(id: string, to: OrganizationStatus, options: TransitionOptions = {}): Promise<Organization> {
    const from = sourcesOf(to, options.onlyFrom);
    const { org, event } = await this.dataSource.transaction(async (manager) => {
      const current = await this.lockAllowed(manager, id, from, `it cannot become ${to}`);
      const changes = { ...withNameKey(options.patch), status: to, ...(options.step !== undefined ? { step: options.step } : {}) };
      await manager.getRepository(Organization).update({ id, status: In([...from]) }, changes);
      const event = await this.recordEvent(manager, id, current.status, to, options);
      return { org: (await selectOrganization(manager, id)) as Organization, event };
    });
    // After commit only: a listener must never see a change that was rolled back.
    this.events?.publish({
      type: 'status',
      orgId: id,
      eventId: event.id,
      from: event.fromStatus as OrganizationStatus | null,
      status: to,
      step: org.step,
      detail: event.detail,
      at: (event.at ?? new Date()).toISOString(),
    });
    return org;
  }

  /** Records a step (and `patch`) while the organization stays `status`; a ConflictError once it has left it. */
  recordStep(id: string, status: OrganizationStatus, options: Omit<TransitionOptions, 'onlyFrom'> = {}): Promise<Organization> {
    return this.transition(id, status, { ...options, onlyFrom: [status] });
  }

  /**
   * Changes columns other than the status (rename, admin email) while the organization is
   * editable, recording an event without a status change. A new name gets its name key in the
   * same update; unique violations (a name taken, or one that looks the same) surface as the
   * driver error for the caller to word.
   */
  async amend(id: string, patch: TransitionOptions['patch'], options: Omit<TransitionOptions, 'patch' | 'onlyFrom'> = {}): Promise<Organization> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.lockAllowed(manager, id, EDITABLE_STATUSES, 'it cannot be changed');
      await manager.getRepository(Organization).update({ id }, withNameKey(patch));
      await this.recordEvent(manager, id, current.status, current.status, options);
      return (await selectOrganization(manager, id)) as Organization;
    });
  }

  /** Every organization whose database should exist (or be on its way out), for orphan checks. */
  async databaseOwners(): Promise<{ id: string; status: OrganizationStatus; databaseName: string }[]> {
    return this.dataSource.query(`SELECT id, status, database_name AS "databaseName" FROM organizations WHERE status <> 'deleted'`);
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

  private async lockAllowed(manager: EntityManager, id: string, allowed: readonly OrganizationStatus[], refusal: string): Promise<Organization> {
    const current = await selectOrganization(manager, id, { forUpdate: true });
    if (!current) throw new NotFoundError(`Organization ${id} does not exist.`);
    if (!allowed.includes(current.status)) {
      // `current_status`, not `status`: a problem's `status` is the HTTP status code.
      throw new ConflictError(`Organization ${id} is ${current.status}; ${refusal}.`, { current_status: current.status });
    }
    return current;
  }

  private async recordEvent(
    manager: EntityManager,
    orgId: string,
    fromStatus: OrganizationStatus | null,
    toStatus: OrganizationStatus,
    options: TransitionOptions,
  ): Promise<OrganizationEvent> {
    const repository = manager.getRepository(OrganizationEvent);
    const event = repository.create({
      orgId,
      fromStatus,
      toStatus,
      step: options.step ?? null,
      detail: options.detail ?? null,
      requestId: options.requestId ?? null,
    });
    return repository.save(event);
  }
}
