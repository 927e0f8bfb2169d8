import type { AuditEntry, AuditLogStore, NewAuditEntry } from '@orgms/common/audit/audit-log-store';
import type { Logger } from '@orgms/common/logger';
import { type Page, pageQuery, withCursor } from '../http/pagination';

export interface AuditQuery {
  limit: number;
  cursor?: string;
  organizationId?: string;
  actorId?: string;
  action?: string;
  from?: Date;
  to?: Date;
}

/**
 * The audit log as the API writes and reads it. Changes in the control database write their
 * entry in their own transaction (through the store they change); what cannot share one (a
 * change in an organization's database, a login) is recorded here after the fact.
 */
export class AuditService {
  constructor(
    private readonly store: Pick<AuditLogStore, 'record' | 'list'>,
    private readonly logger: Logger,
  ) {}

  /**
   * After the fact: the change is already committed and its caller gets its answer, so a failed
   * write must not turn it into an error. It is logged loudly instead, with the entry, so an
   * operator can see what the log is missing.
   */
  async recordAfter(entry: NewAuditEntry): Promise<void> {
    try {
      await this.store.record(entry);
    } catch (error) {
      this.logger.error('audit entry not written', { audit: { action: entry.action, orgId: entry.orgId, target: entry.target }, error });
    }
  }

  async list(query: AuditQuery): Promise<Page<AuditEntry>> {
    const page = pageQuery(query);
    return withCursor(
      await this.store.list({ ...page, orgId: query.organizationId, actorId: query.actorId, action: query.action, from: query.from, to: query.to }),
    );
  }
}
