import { AuditService } from '@orgms/api/audit/audit.service';
import type { NewAuditEntry } from '@orgms/common/audit/audit-log-store';
import type { Logger } from '@orgms/common/logger';
import { expect } from 'chai';

describe('Audit entries written after the fact', () => {
  /** A logger that keeps its error lines, to see what an operator would. */
  function keptErrors(): { logger: Logger; lines: { message: string; meta: Record<string, unknown> }[] } {
    const lines: { message: string; meta: Record<string, unknown> }[] = [];
    const logger = { error: (message: string, meta: Record<string, unknown>) => lines.push({ message, meta }) } as unknown as Logger;
    return { logger, lines };
  }

  it('when the audit log cannot be written, then the caller still succeeds and an error line names the lost entry', async () => {
    const { logger, lines } = keptErrors();
    const failing = { record: async () => Promise.reject(new Error('connection terminated')), list: async () => ({ items: [], next: null }) };
    const audit = new AuditService(failing, logger);
    const entry: NewAuditEntry = { action: 'user.deleted', orgId: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab', target: { type: 'user', id: 'u1' } };
    await audit.recordAfter(entry);
    expect(lines).to.have.length(1);
    expect(lines[0].message).to.equal('audit entry not written');
    expect(lines[0].meta.audit).to.deep.equal({ action: 'user.deleted', orgId: entry.orgId, target: entry.target });
    expect((lines[0].meta.error as Error).message).to.equal('connection terminated');
  });

  it('when the audit log is written, then nothing is logged', async () => {
    const { logger, lines } = keptErrors();
    const written: NewAuditEntry[] = [];
    const audit = new AuditService({ record: async (entry) => void written.push(entry), list: async () => ({ items: [], next: null }) }, logger);
    await audit.recordAfter({ action: 'auth.logout', actor: null });
    expect(written).to.have.length(1);
    expect(lines).to.deep.equal([]);
  });
});
