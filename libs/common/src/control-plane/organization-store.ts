import { type DataSource, type EntityManager, In } from 'typeorm';
import { Organization, OrganizationEvent, type OrganizationStatus } from '../entities';
import { ConflictError, NotFoundError } from '../errors';

export interface TransitionOptions {
  step?: string | null;
  detail?: string | null;
  requestId?: string | null;
  /** Other columns to set in the same update. */
  patch?: Partial<Pick<Organization, 'attempts' | 'lastError' | 'schemaVersion' | 'name' | 'slug' | 'adminEmail'>>;
}

/**
 * The one place that changes an organization's status. Each change is a conditional UPDATE
 * (`WHERE status IN (from)`), so two writers cannot both win, and it writes its event row in
 * the same transaction, so the audit trail never misses a transition.
 */
export class OrganizationStore {
  constructor(private readonly dataSource: DataSource) {}

  async get(id: string): Promise<Organization> {
    const org = await this.dataSource.getRepository(Organization).findOneBy({ id });
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
  async findStale(statuses: readonly OrganizationStatus[], olderThanMs: number, limit = 500): Promise<{ id: string; requestId: string | null }[]> {
    return this.dataSource.query(
      `SELECT o.id,
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
   * Moves `id` from one of `from` to `to`. Throws ConflictError (with the current status) when
   * the organization is in none of `from`; a transition to the same status just records a step.
   */
  async transition(id: string, from: readonly OrganizationStatus[], to: OrganizationStatus, options: TransitionOptions = {}): Promise<Organization> {
    return this.dataSource.transaction(async (manager) => {
      const current = await manager.getRepository(Organization).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!current) throw new NotFoundError(`Organization ${id} does not exist.`);
      if (!from.includes(current.status)) {
        throw new ConflictError(`Organization ${id} is ${current.status}; it cannot become ${to}.`, { status: current.status });
      }
      const changes = { ...options.patch, status: to, ...(options.step !== undefined ? { step: options.step } : {}) };
      await manager.getRepository(Organization).update({ id, status: In([...from]) }, changes);
      await this.recordEvent(manager, id, current.status, to, options);
      return manager.getRepository(Organization).findOneByOrFail({ id });
    });
  }

  async recordEvent(
    manager: EntityManager,
    orgId: string,
    fromStatus: OrganizationStatus | null,
    toStatus: OrganizationStatus,
    options: TransitionOptions,
  ): Promise<void> {
    await manager.getRepository(OrganizationEvent).insert({
      orgId,
      fromStatus,
      toStatus,
      step: options.step ?? null,
      detail: options.detail ?? null,
      requestId: options.requestId ?? null,
    });
  }
}
