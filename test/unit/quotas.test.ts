import { QuotaExceededError } from '@orgms/common/errors';
import { databaseOverQuota, isOverQuota, quotaRefusingNewUser, refuseOverQuota } from '@orgms/common/limits/quotas';
import { webhookEventTypeOf } from '@orgms/common/webhooks/webhook-events';
import { expect } from 'chai';

describe('Quota decisions (libs/common/src/limits/quotas.ts)', () => {
  const quotas = { users: 3, databaseBytes: 1000 };

  it('when the database has no sample yet, or is at its quota, then it is not over; one byte more is', () => {
    expect(databaseOverQuota(quotas, null)).to.equal(undefined);
    expect(databaseOverQuota(quotas, 1000)).to.equal(undefined);
    expect(databaseOverQuota(quotas, 1001)).to.deep.equal({ quota: 'database_bytes', limit: 1000, usage: 1001 });
  });

  it('when the organization has fewer users than its quota, then a new user is allowed; at the quota it is refused', () => {
    expect(quotaRefusingNewUser(quotas, { users: 2, databaseBytes: 10 })).to.equal(undefined);
    expect(quotaRefusingNewUser(quotas, { users: 3, databaseBytes: 10 })).to.deep.equal({ quota: 'users', limit: 3, usage: 3 });
  });

  it('when the database is over its quota, then a new user is refused for the database even with room for users', () => {
    expect(quotaRefusingNewUser(quotas, { users: 0, databaseBytes: 5000 })).to.deep.include({ quota: 'database_bytes' });
  });

  it('when the organization is at its users quota, then it is not over; past it (a lowered quota, a race) it is', () => {
    expect(isOverQuota(quotas, { users: 3, databaseBytes: null })).to.equal(false);
    expect(isOverQuota(quotas, { users: 4, databaseBytes: null })).to.equal(true);
    expect(isOverQuota(quotas, { users: 0, databaseBytes: 1001 })).to.equal(true);
  });

  it('when a quota refuses, then the error is a 403 quota-exceeded naming the quota, its limit and the usage', () => {
    expect(() => refuseOverQuota(undefined)).to.not.throw();
    const error = (() => {
      try {
        refuseOverQuota({ quota: 'users', limit: 3, usage: 3 });
      } catch (e) {
        return e;
      }
    })() as QuotaExceededError;
    expect(error).to.be.instanceOf(QuotaExceededError);
    expect(error).to.include({ status: 403, code: 'quota-exceeded' });
    expect(error.extra).to.deep.equal({ quota: 'users', limit: 3, usage: 3 });
  });

  it('when an event without a status change carries the quota step, then it is the webhook organization.quota_exceeded; without it, none', () => {
    expect(webhookEventTypeOf({ fromStatus: 'active', toStatus: 'active', step: 'quota_exceeded' }, false)).to.equal('organization.quota_exceeded');
    expect(webhookEventTypeOf({ fromStatus: 'active', toStatus: 'active', step: 'migrate' }, false)).to.equal(undefined);
  });
});
