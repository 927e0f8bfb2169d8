import { JobHandover } from '@orgms/api/http/job-handover';
import { OrganizationsService } from '@orgms/api/organizations/organizations.service';
import { ConflictError, NotFoundError } from '@orgms/common/errors';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { Logger } from '@orgms/common/logger';
import { Organization } from '@orgms/common/organizations/organization.entity';
import { canTransition, EDITABLE_STATUSES, type OrganizationStatus, statusesLeadingTo } from '@orgms/common/organizations/organization-status';
import type { NewOrganization, OrganizationStore, TransitionOptions } from '@orgms/common/organizations/organization-store';
import type { OrganizationJobs } from '@orgms/common/queues/provisioning-queue';
import { verifyPassword } from '@orgms/common/sign-in/passwords';
import { expect } from 'chai';

/** A store in memory that keeps the real store's rules: the transition table, editable statuses, 409 with current_status. */
class FakeOrganizationStore {
  readonly rows = new Map<string, Organization>();
  readonly hashes = new Map<string, string>();

  async create(org: NewOrganization, options: { place: (liveByServer: Map<string, number>) => string }): Promise<Organization> {
    const databaseServerId = options.place(new Map());
    const { pendingAdminPasswordHash, ...columns } = org;
    if (pendingAdminPasswordHash) this.hashes.set(org.id, pendingAdminPasswordHash);
    return this.put(
      Object.assign(new Organization(), columns, { status: 'pending', step: null, attempts: 0, lastError: null, schemaVersion: null, databaseServerId }),
    );
  }

  async get(id: string): Promise<Organization> {
    const org = this.rows.get(id);
    if (!org) throw new NotFoundError(`Organization ${id} does not exist.`);
    return org;
  }

  async transition(id: string, to: OrganizationStatus, options: TransitionOptions = {}): Promise<Organization> {
    const org = await this.get(id);
    const from = options.onlyFrom ?? statusesLeadingTo(to);
    if (!from.every((status) => canTransition(status, to))) throw new Error('not a legal organization transition');
    if (!from.includes(org.status)) throw new ConflictError(`Organization ${id} is ${org.status}.`, { current_status: org.status });
    return this.put(Object.assign(new Organization(), org, options.patch, { status: to, step: options.step ?? org.step }));
  }

  async markDeleted(id: string, options: { requestId: string; graceMs: number }): Promise<Organization> {
    const org = await this.get(id);
    const now = new Date();
    const patch = { deletedAt: now, deletedFrom: org.status, purgeAfter: new Date(now.getTime() + options.graceMs) };
    return this.transition(id, 'deleted', { patch });
  }

  async amend(id: string, patch: TransitionOptions['patch']): Promise<Organization> {
    const org = await this.get(id);
    if (!EDITABLE_STATUSES.includes(org.status)) throw new ConflictError(`Organization ${id} is ${org.status}.`, { current_status: org.status });
    return this.put(Object.assign(new Organization(), org, patch));
  }

  /** Puts an organization in `status` directly, as the worker would have. */
  force(id: string, status: OrganizationStatus): void {
    Object.assign(this.rows.get(id) as Organization, { status });
  }

  private put(org: Organization): Organization {
    org.createdAt ??= new Date();
    org.updatedAt = new Date();
    this.rows.set(org.id, org);
    return org;
  }
}

function fixture(options: { queueDown?: boolean } = {}) {
  const store = new FakeOrganizationStore();
  const asked: string[] = [];
  const ask = (kind: string) => async (data: { orgId: string }) => {
    if (options.queueDown) throw new Error('Redis is down');
    asked.push(`${kind}:${data.orgId}`);
    return true;
  };
  const jobs: OrganizationJobs = {
    provisionNew: ask('provision'),
    provision: ask('provision'),
    purge: ask('purge'),
    move: ask('move'),
    export: ask('export'),
    backup: ask('backup'),
    restore: ask('restore'),
  };
  const warnings: string[] = [];
  const logger = { warn: (message: string) => warnings.push(message) } as unknown as Logger;
  const service = new OrganizationsService({
    databasePrefix: 'org_',
    deleteGraceMs: 60000,
    bcryptRounds: 4,
    store: store as unknown as OrganizationStore,
    // One server that always has room: placement itself is specified in test/unit/placement.test.ts.
    placement: { candidates: async () => [], choose: () => ({ id: 'server-1' }) as DatabaseServer },
    jobs,
    handover: new JobHandover(logger),
    // Archives are read by GET …/archives only, specified in test/organizations.deletion.test.ts.
    archives: { store: { listArchives: async () => [] }, dir: '/var/lib/orgms/archives' },
  });
  const create = () => service.create({ organization_name: 'Acme Widgets', email: 'owner@acme.test', password: 'correct horse battery' }, 'req-1');
  return { store, asked, warnings, service, create };
}

async function refusal(promise: Promise<unknown>): Promise<ConflictError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).to.be.instanceOf(ConflictError);
  return error as ConflictError;
}

describe('OrganizationsService (no servers, a store in memory)', () => {
  describe('create', () => {
    it('when an organization is created, then it is pending with a derived database name and slug, the password is kept only as a hash, and provisioning is asked for', async () => {
      const { store, asked, create } = fixture();
      const org = await create();
      expect(org).to.include({ status: 'pending', name: 'Acme Widgets', slug: 'acme-widgets', adminEmail: 'owner@acme.test' });
      expect(org.databaseName).to.equal(`org_${org.id.replaceAll('-', '')}`);
      const hash = store.hashes.get(org.id) as string;
      expect(hash).to.not.equal('correct horse battery');
      expect(await verifyPassword('correct horse battery', hash)).to.equal(true);
      expect(asked).to.deep.equal([`provision:${org.id}`]);
    });

    it('when the job queue is down, then the organization is still created and the reconciler is left to enqueue it', async () => {
      const { store, warnings, create } = fixture({ queueDown: true });
      const org = await create();
      expect(store.rows.get(org.id)?.status).to.equal('pending');
      expect(warnings).to.deep.equal(['could not enqueue; holding the job until Redis is back']);
    });
  });

  describe('delete', () => {
    for (const status of ['pending', 'provisioning', 'active', 'failed'] as const) {
      it(`when the organization is ${status} and is deleted, then it is deleted at once, its purge is due after the grace period, and no job is asked for`, async () => {
        const { store, asked, service, create } = fixture();
        const org = await create();
        store.force(org.id, status);
        const deleted = await service.delete(org.id, 'req-2');
        expect(deleted).to.include({ status: 'deleted', deletedFrom: status });
        expect((deleted.purgeAfter as Date).getTime() - (deleted.deletedAt as Date).getTime()).to.equal(60000);
        expect(asked).to.deep.equal([`provision:${org.id}`]);
      });
    }

    it('when DELETE is sent again, then nothing changes and no job is asked for', async () => {
      const { asked, service, create } = fixture();
      const org = await create();
      const first = await service.delete(org.id, 'req-2');
      const again = await service.delete(org.id, 'req-3');
      expect(again).to.include({ status: 'deleted', deletedAt: first.deletedAt });
      expect(asked).to.deep.equal([`provision:${org.id}`]);
    });

    it('when the purge is asked for, then it is purging and the purge is asked for (again, when sent again)', async () => {
      const { asked, service, create } = fixture();
      const org = await create();
      expect((await service.delete(org.id, 'req-2', { purge: true })).status).to.equal('purging');
      expect((await service.delete(org.id, 'req-3', { purge: true })).status).to.equal('purging');
      expect(asked.filter((job) => job === `purge:${org.id}`)).to.have.lengthOf(2);
    });

    it('when the organization is already purged, then DELETE changes nothing and asks for no job', async () => {
      const { store, asked, service, create } = fixture();
      const org = await create();
      store.force(org.id, 'purged');
      expect((await service.delete(org.id, 'req-2', { purge: true })).status).to.equal('purged');
      expect(asked).to.deep.equal([`provision:${org.id}`]);
    });

    it('when the organization is moving, then DELETE is a 409 with its status', async () => {
      const { store, service, create } = fixture();
      const org = await create();
      store.force(org.id, 'moving');
      const error = await refusal(service.delete(org.id, 'req-2'));
      expect(error.extra).to.deep.equal({ current_status: 'moving' });
    });
  });

  describe('retry', () => {
    it('when a failed organization is retried, then it is provisioning again and provisioning is asked for', async () => {
      const { store, asked, service, create } = fixture();
      const org = await create();
      store.force(org.id, 'failed');
      expect((await service.retry(org.id, 'req-2')).status).to.equal('provisioning');
      expect(asked).to.deep.equal([`provision:${org.id}`, `provision:${org.id}`]);
    });

    for (const status of ['pending', 'provisioning', 'active', 'deleted', 'purging', 'purged'] as const) {
      it(`when the organization is ${status} and is retried, then it is a 409 with its status and nothing changes`, async () => {
        const { store, asked, service, create } = fixture();
        const org = await create();
        store.force(org.id, status);
        const error = await refusal(service.retry(org.id, 'req-2'));
        expect(error.extra).to.deep.equal({ current_status: status });
        expect(store.rows.get(org.id)?.status).to.equal(status);
        expect(asked).to.deep.equal([`provision:${org.id}`]);
      });
    }
  });

  describe('update', () => {
    it('when an organization is renamed, then name and slug change and the database name does not', async () => {
      const { service, create } = fixture();
      const org = await create();
      const renamed = await service.update(org.id, { organization_name: 'Acme Europe', email: 'new@acme.test' }, 'req-2');
      expect(renamed).to.include({ name: 'Acme Europe', slug: 'acme-europe', adminEmail: 'new@acme.test', databaseName: org.databaseName });
    });

    for (const status of ['deleted', 'purging', 'purged'] as const) {
      it(`when the organization is ${status} and is renamed, then it is a 409: it keeps the name it had`, async () => {
        const { store, service, create } = fixture();
        const org = await create();
        store.force(org.id, status);
        await refusal(service.update(org.id, { organization_name: 'Other' }, 'req-2'));
        expect(store.rows.get(org.id)?.name).to.equal('Acme Widgets');
      });
    }
  });
});
