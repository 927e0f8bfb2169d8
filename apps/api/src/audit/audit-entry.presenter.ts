import type { AuditEntry } from '@orgms/common/audit/audit-log-store';
import type { Page } from '../http/pagination';
import type { AuditEntryBody, AuditEntryListBody } from './audit.responses';

export function presentAuditEntry(entry: AuditEntry): AuditEntryBody {
  return {
    id: entry.id,
    at: entry.createdAt.toISOString(),
    actor: entry.actor,
    organization_id: entry.orgId,
    action: entry.action,
    target: entry.target,
    request_id: entry.requestId,
    details: entry.details,
  };
}

export function presentAuditPage(page: Page<AuditEntry>): AuditEntryListBody {
  return { items: page.items.map(presentAuditEntry), next_cursor: page.nextCursor };
}
