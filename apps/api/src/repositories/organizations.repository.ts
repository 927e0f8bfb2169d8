import { ConflictError, Organization, OrganizationEvent, type OrganizationStatus, organizationNameKey, sqlStateOf } from '@orgms/common';
import type { DataSource } from 'typeorm';
import { type Cursor, decodeCursor, encodeCursor } from './cursor';

export interface NewOrganization {
  id: string;
  name: string;
  slug: string;
  databaseName: string;
  adminEmail: string;
  pendingAdminPasswordHash: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export class OrganizationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the organization and its first event in one transaction. The partial unique index
   * on name_key (the name as it looks: NFKC, case folded, confusable skeleton) decides races:
   * of concurrent duplicates or look-alikes exactly one insert wins.
   */
  async insertPending(org: NewOrganization, requestId: string): Promise<Organization> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.getRepository(Organization).insert({ ...org, nameKey: organizationNameKey(org.name), status: 'pending', attempts: 0 });
        await manager.getRepository(OrganizationEvent).insert({ orgId: org.id, fromStatus: null, toStatus: 'pending', requestId, detail: 'requested' });
        return manager.getRepository(Organization).findOneByOrFail({ id: org.id });
      });
    } catch (error) {
      if (sqlStateOf(error) === '23505') throw new ConflictError(`An organization named "${org.name}" (or a name that looks the same) already exists.`);
      throw error;
    }
  }

  async list(filter: { status?: OrganizationStatus; limit: number; cursor?: string }): Promise<Page<Organization>> {
    const query = this.dataSource
      .getRepository(Organization)
      .createQueryBuilder('o')
      .orderBy('o.created_at', 'DESC')
      .addOrderBy('o.id', 'DESC')
      .take(filter.limit + 1);
    if (filter.status) query.andWhere('o.status = :status', { status: filter.status });
    if (filter.cursor) {
      const after: Cursor = decodeCursor(filter.cursor);
      query.andWhere('(o.created_at, o.id) < (:createdAt, :id)', after);
    }
    const rows = await query.getMany();
    const items = rows.slice(0, filter.limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > filter.limit && last ? encodeCursor(last) : null };
  }
}
