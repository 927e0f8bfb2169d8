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

/** Two entries as stored (a change and a failed login), from which the API document's audit example is rendered above. */
const deactivation: AuditEntry = {
  id: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
  createdAt: new Date('2026-12-05T04:10:00.000Z'),
  actor: { kind: 'org_user', id: '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d' },
  orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  action: 'user.updated',
  target: { type: 'user', id: '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b' },
  requestId: '3b2f7c1e-0d4a-4c5b-9e6f-7a8b9c0d1e2f',
  details: { changed: ['is_active'], before: { is_active: true }, after: { is_active: false } },
};
const failedLogin: AuditEntry = {
  id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  createdAt: new Date('2026-12-05T04:09:00.000Z'),
  actor: null,
  orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  action: 'auth.login.failed',
  target: null,
  requestId: '5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a',
  details: { ip: '203.0.113.7' },
};

/** The document's example of an audit page (components.examples), so it cannot drift from the answers. */
export const auditExamples = {
  AuditEntryPage: presentAuditPage({ items: [deactivation, failedLogin], nextCursor: 'MjAyNi0xMi0wNVQwNDowOTowMC4wMDBafDFjMmQzZTRm' }),
};
