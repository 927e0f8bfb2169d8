import { defaultLimits, effectiveLimits } from '@orgms/common/limits/organization-limits';
import { expect } from 'chai';

describe('Organization limits: defaults with overrides on top (libs/common/src/limits/organization-limits.ts)', () => {
  const defaults = defaultLimits({
    organization: { reads: 6000, writes: 600, expensive: 10 },
    database: { connectionLimit: 10, statementTimeoutMs: 30000, idleInTransactionTimeoutMs: 60000, tempFileLimitKb: 1048576 },
    quotas: { users: 100000, databaseBytes: 1073741824 },
  });

  it('when an organization has no overrides, then its limits are the defaults', () => {
    expect(effectiveLimits(defaults)).to.deep.equal(defaults);
  });

  it('when some limits are overridden, then those change and the rest stay the defaults; null means the default', () => {
    const limits = effectiveLimits(defaults, { requests: { reads: 100, writes: null as unknown as number }, quotas: { users: 5 } });
    expect(limits.requests).to.deep.equal({ reads: 100, writes: 600, expensive: 10 });
    expect(limits.quotas).to.deep.equal({ users: 5, databaseBytes: 1073741824 });
    expect(limits.database).to.deep.equal(defaults.database);
  });
});
