import {
  canTransition,
  EDITABLE_STATUSES,
  ORGANIZATION_STATUSES,
  type OrganizationStatus,
  statusesLeadingTo,
} from '@orgms/common/organizations/organization-status';
import { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';

/** The README's "States" table, written out: every pair not listed here must be refused. */
const LEGAL: Record<OrganizationStatus, OrganizationStatus[]> = {
  pending: ['provisioning', 'deleted'],
  provisioning: ['provisioning', 'active', 'failed', 'deleted'],
  active: ['moving', 'restoring', 'deleted'],
  moving: ['moving', 'active'],
  restoring: ['restoring', 'active'],
  failed: ['provisioning', 'deleted'],
  deleted: ['active', 'purging'],
  purging: ['purging', 'purged'],
  purged: [],
};

describe('Organization states (no servers)', () => {
  for (const from of ORGANIZATION_STATUSES) {
    for (const to of ORGANIZATION_STATUSES) {
      const legal = LEGAL[from].includes(to);
      it(`when an organization is ${from}, then becoming ${to} is ${legal ? 'legal' : 'refused'}`, () => {
        expect(canTransition(from, to)).to.equal(legal);
      });
    }
  }

  it('when the store asks where a status may be reached from, then it gets the sources of the same table', () => {
    for (const to of ORGANIZATION_STATUSES) {
      expect(statusesLeadingTo(to)).to.have.members(ORGANIZATION_STATUSES.filter((from) => LEGAL[from].includes(to)));
    }
  });

  it('when the organization is deleted, then it is no longer editable', () => {
    expect(EDITABLE_STATUSES).to.have.members(['pending', 'provisioning', 'active', 'moving', 'restoring', 'failed']);
  });

  it('when a caller narrows a transition to a source the table does not allow, then the store refuses before any query', async () => {
    const untouchable = new Proxy({} as DataSource, {
      get: () => {
        throw new Error('the database was touched');
      },
    });
    const store = new OrganizationStore(untouchable);
    const refusal = await store.transition('0e6c4a12-3b7d-4c1e-9f00-1234567890ab', 'provisioning', { onlyFrom: ['active'] }).catch((error: Error) => error);
    expect(refusal).to.be.instanceOf(Error);
    expect((refusal as Error).message).to.equal('not a legal organization transition: active → provisioning');
  });
});
