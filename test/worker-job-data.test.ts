import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS, QUEUES, type QueueName } from '@orgms/common/queues/registry';
import type { BackupRestoresService } from '@orgms/worker/data-safety/backup-restores.service';
import type { OrganizationDumpsService } from '@orgms/worker/data-safety/organization-dumps.service';
import type { DrainService } from '@orgms/worker/fleet/drain.service';
import type { MovesService } from '@orgms/worker/fleet/moves.service';
import type { MigrationRunsService } from '@orgms/worker/fleet-migrations/migration-runs.service';
import { JobFailure } from '@orgms/worker/job-failure';
import type { DatabaseLimitsService } from '@orgms/worker/limits/database-limits.service';
import type { ProvisioningService } from '@orgms/worker/organizations/provisioning.service';
import type { PurgeService } from '@orgms/worker/organizations/purge.service';
import { createJobHandlers } from '@orgms/worker/processors/job-handlers';
import { queueProcessor } from '@orgms/worker/processors/job-processor';
import type { WebhookDeliveryService } from '@orgms/worker/webhooks/webhook-delivery.service';
import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import { expect } from 'chai';
import { queryControlDatabase } from './support/control-database';
import { createOrganization, waitForStatus } from './support/organizations';
import { startStack, type TestStack } from './support/stack';

/** Data that is not `{ orgId: <lower-case uuid>, requestId: string }`, each with what the message must name. */
const BAD_ORGANIZATION_DATA: { label: string; data: unknown; reason: RegExp }[] = [
  { label: 'an orgId that is no uuid', data: { orgId: 'not-a-uuid', requestId: 'spec' }, reason: /orgId must be a lower-case uuid/ },
  { label: 'an upper-case uuid', data: { orgId: randomUUID().toUpperCase(), requestId: 'spec' }, reason: /orgId must be a lower-case uuid/ },
  { label: 'SQL in orgId', data: { orgId: "x'; DROP DATABASE postgres; --", requestId: 'spec' }, reason: /orgId/ },
  { label: 'no requestId', data: { orgId: randomUUID() }, reason: /requestId/ },
  { label: 'a string instead of an object', data: 'provision everything', reason: /not an object/ },
  { label: 'nothing', data: null, reason: /not an object/ },
];

/** Any call to a service would be a database touch: the stubs record them. */
function recordingStubs() {
  const calls: string[] = [];
  const record = (name: string) => async () => {
    calls.push(name);
    return 'activated';
  };
  return {
    calls,
    provisioning: { provision: record('provision') } as unknown as ProvisioningService,
    purges: { purge: record('purge') } as unknown as PurgeService,
    migrations: { migrateBatch: record('migrateBatch'), planRun: record('planRun'), finishRun: record('finishRun') } as unknown as MigrationRunsService,
    sweeps: {
      run: async (sweep: string) => {
        calls.push(`sweep ${sweep}`);
        return {};
      },
    },
    moves: { move: record('move') } as unknown as MovesService,
    drains: { drain: record('drain') } as unknown as DrainService,
    dumps: { dump: record('export') } as unknown as OrganizationDumpsService,
    restores: { restore: record('restore') } as unknown as BackupRestoresService,
    webhooks: { deliverLane: record('deliverLane'), sweep: record('sweep') } as unknown as WebhookDeliveryService,
    databaseLimits: { applyTo: record('applyTo'), applyToFleet: record('applyToFleet') } as unknown as DatabaseLimitsService,
    migrationsQueue: {} as never,
  };
}

/** The processor a worker runs for `queue`, over the job handlers of these services. */
function processorFor(queue: QueueName, services: ReturnType<typeof recordingStubs>) {
  return queueProcessor(queue, createJobHandlers(services));
}

const fakeJob = (name: string, data: unknown) => ({ id: 'spec-job', name, data, attemptsMade: 0, opts: { attempts: 5 } }) as unknown as Job;

describe('Worker: job data is checked before anything touches a database', () => {
  describe('the processors (with services that record every call)', () => {
    for (const { label, data, reason } of BAD_ORGANIZATION_DATA) {
      it(`when a provision or purge job carries ${label}, then it fails with UnrecoverableError and no service is called`, async () => {
        const stubs = recordingStubs();
        const route = processorFor(QUEUES.provisioning, stubs);
        for (const name of [JOBS.provision, JOBS.purge]) {
          const error = await route(fakeJob(name, data)).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).to.be.instanceOf(UnrecoverableError);
          expect((error as Error).message)
            .to.match(reason)
            .and.match(/not retried/);
        }
        expect(stubs.calls).to.deep.equal([]);
      });
    }

    it('when a job name is not registered for the provisioning queue, then it fails with UnrecoverableError instead of provisioning', async () => {
      const stubs = recordingStubs();
      const route = processorFor(QUEUES.provisioning, stubs);
      const error = await route(fakeJob('drop-everything', { orgId: randomUUID(), requestId: 'spec' })).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnrecoverableError);
      expect((error as Error).message)
        .to.include('"drop-everything"')
        .and.include('provision, purge');
      expect(stubs.calls).to.deep.equal([]);
    });

    for (const [label, data] of [
      ['no fromServerId', { orgId: randomUUID(), requestId: 'spec' }],
      ['a fromServerId that is no uuid', { orgId: randomUUID(), requestId: 'spec', fromServerId: 'default' }],
      ['no requestId', { orgId: randomUUID(), fromServerId: randomUUID() }],
    ] as const) {
      it(`when a move job carries ${label}, then it fails with UnrecoverableError and nothing is moved`, async () => {
        const stubs = recordingStubs();
        const error = await processorFor(QUEUES.tenantWork, stubs)(fakeJob(JOBS.move, data)).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnrecoverableError);
        expect(stubs.calls).to.deep.equal([]);
      });
    }

    it('when a good move job arrives, then the move service gets its orgId, requestId, fromServerId and whether it is the last attempt', async () => {
      const stubs = recordingStubs();
      const seen: unknown[][] = [];
      const moves = { move: async (...args: unknown[]) => seen.push(args) } as unknown as MovesService;
      const data = { orgId: randomUUID(), requestId: 'spec-request', fromServerId: randomUUID() };
      await processorFor(QUEUES.tenantWork, { ...stubs, moves })(fakeJob(JOBS.move, data));
      expect(seen).to.deep.equal([[data.orgId, { requestId: 'spec-request', fromServerId: data.fromServerId, isLastAttempt: false }]]);
    });

    it('when good data arrives, then the service is called with exactly the orgId and requestId', async () => {
      const stubs = recordingStubs();
      const orgId = randomUUID();
      const seen: unknown[] = [];
      const provisioning = { provision: async (...args: unknown[]) => seen.push(args) } as unknown as ProvisioningService;
      const route = processorFor(QUEUES.provisioning, { ...stubs, provisioning });
      await route(fakeJob(JOBS.provision, { orgId, requestId: 'spec-request', extra: 'ignored' }));
      expect(seen).to.have.length(1);
      expect((seen[0] as unknown[])[0]).to.equal(orgId);
      expect((seen[0] as [string, { requestId: string }])[1].requestId).to.equal('spec-request');
    });

    for (const [label, name, data] of [
      ['a migrate-tenants job with a runId that is no uuid', JOBS.migrateTenants, { runId: 'latest', orgIds: [randomUUID()], requestId: 'spec' }],
      [
        'a migrate-tenants job with an upper-case orgId',
        JOBS.migrateTenants,
        { runId: randomUUID(), orgIds: [randomUUID(), randomUUID().toUpperCase()], requestId: 'spec' },
      ],
      ['a migrate-tenants job without organizations', JOBS.migrateTenants, { runId: randomUUID(), orgIds: [], requestId: 'spec' }],
      ['a migrate-tenants job with one orgId instead of a list', JOBS.migrateTenants, { runId: randomUUID(), orgId: randomUUID(), requestId: 'spec' }],
      ['a migrate-all job with a runId that is no uuid', JOBS.migrateAll, { runId: '1 OR 1=1', requestId: 'spec' }],
      ['a job name the migrations queue does not know', 'migrate-everything', { runId: randomUUID(), requestId: 'spec' }],
      ['a drain-server job with a drainId that is no uuid', JOBS.drainServer, { drainId: 'all', requestId: 'spec' }],
    ] as const) {
      it(`when ${label} arrives, then it fails with UnrecoverableError and no service is called`, async () => {
        const stubs = recordingStubs();
        const processor = processorFor(QUEUES.migrations, stubs);
        const error = await processor(fakeJob(name, data)).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnrecoverableError);
        expect(stubs.calls).to.deep.equal([]);
      });
    }

    it('when a provisioning job is added to the maintenance queue, then it fails with UnrecoverableError and no sweep runs', async () => {
      const stubs = recordingStubs();
      const error = await processorFor(QUEUES.maintenance, stubs)(fakeJob(JOBS.provision, { orgId: randomUUID(), requestId: 'spec' })).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(UnrecoverableError);
      expect((error as Error).message).to.include('not a job of the maintenance queue (sweep, apply-database-limits)');
      expect(stubs.calls).to.deep.equal([]);
    });

    for (const [label, data] of [
      ['names no sweep', {}],
      ['names a sweep that does not exist', { sweep: 'drop-everything' }],
    ] as const) {
      it(`when a sweep job ${label}, then it fails with UnrecoverableError and no sweep runs`, async () => {
        const stubs = recordingStubs();
        const error = await processorFor(QUEUES.maintenance, stubs)(fakeJob(JOBS.sweep, data)).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(UnrecoverableError);
        expect((error as Error).message).to.match(/sweep must be one of purges-due, /);
        expect(stubs.calls).to.deep.equal([]);
      });
    }

    it('when a sweep job names a sweep, then that sweep runs', async () => {
      const stubs = recordingStubs();
      await processorFor(QUEUES.maintenance, stubs)(fakeJob(JOBS.sweep, { sweep: 'orphans' }));
      expect(stubs.calls).to.deep.equal(['sweep orphans']);
    });

    for (const job of [JOBS.provision, JOBS.purge, JOBS.migrateTenants, JOBS.move]) {
      it(`when the service of a ${job} job fails permanently, then the job fails with UnrecoverableError; a failure a retry may fix is thrown as it is`, async () => {
        const failing = (permanent: boolean) => async () => {
          throw new JobFailure('step: what went wrong', { permanent });
        };
        const services = (permanent: boolean) => ({
          ...recordingStubs(),
          provisioning: { provision: failing(permanent) } as unknown as ProvisioningService,
          purges: { purge: failing(permanent) } as unknown as PurgeService,
          migrations: { migrateBatch: failing(permanent) } as unknown as MigrationRunsService,
          moves: { move: failing(permanent) } as unknown as MovesService,
        });
        const queue = job === JOBS.migrateTenants ? QUEUES.migrations : job === JOBS.move ? QUEUES.tenantWork : QUEUES.provisioning;
        const data = { runId: randomUUID(), orgId: randomUUID(), orgIds: [randomUUID()], requestId: 'spec', fromServerId: randomUUID() };
        const permanent = await processorFor(queue, services(true))(fakeJob(job, data)).catch((e: unknown) => e);
        expect(permanent).to.be.instanceOf(UnrecoverableError);
        expect((permanent as Error).message).to.equal('step: what went wrong');
        const transient = await processorFor(queue, services(false))(fakeJob(job, data)).catch((e: unknown) => e);
        expect(transient).to.be.instanceOf(JobFailure).and.not.be.instanceOf(UnrecoverableError);
      });
    }
  });

  describe('a real worker (PROVISION_ATTEMPTS 5)', () => {
    let stack: TestStack;
    let provisioning: Queue;
    let migrations: Queue;
    before(async () => {
      stack = await startStack({ worker: true });
      provisioning = stack.api.queues.provisioning as Queue;
      migrations = stack.api.queues.migrations as Queue;
    });
    after(() => stack.stop());

    async function settled(queue: Queue, id: string): Promise<Job> {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        // State first, then the job: a job read before it settled would show its old attempt count.
        if (['failed', 'completed'].includes(await queue.getJobState(id))) return (await queue.getJob(id)) as Job;
        await sleep(50);
      }
      throw new Error(`job ${id} did not finish`);
    }

    async function expectFailedOnce(queue: Queue, name: string, data: unknown, reason: RegExp) {
      const added = await queue.add(name, data, { attempts: 5 });
      const job = await settled(queue, added.id as string);
      expect(await job.getState()).to.equal('failed');
      expect(job.attemptsMade, 'attempts').to.equal(1);
      expect(job.failedReason).to.match(reason);
    }

    for (const { label, data, reason } of BAD_ORGANIZATION_DATA) {
      it(`when a provision job with ${label} is added straight to the queue, then it ends failed after exactly 1 attempt`, async () => {
        await expectFailedOnce(provisioning, JOBS.provision, data, reason);
      });
    }

    it('when a purge job without a requestId names a live organization, then it fails once and the organization stays active', async () => {
      const org = await createOrganization(stack);
      await waitForStatus(stack, org.id, ['active']);
      const [{ count: eventsBefore }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS count FROM organization_events WHERE org_id = $1', [org.id]);
      await expectFailedOnce(provisioning, JOBS.purge, { orgId: org.id }, /requestId/);
      await expectFailedOnce(provisioning, 'drop-everything', { orgId: org.id, requestId: 'spec' }, /not a job of the provisioning queue/);
      expect((await stack.api.stores.organizations.get(org.id)).status).to.equal('active');
      const [{ count: eventsAfter }] = await queryControlDatabase(stack, 'SELECT count(*)::int AS count FROM organization_events WHERE org_id = $1', [org.id]);
      expect(eventsAfter, 'organization events').to.equal(eventsBefore);
    });

    it('when a migrate-tenants job with a bad runId is added, then it ends failed after exactly 1 attempt', async () => {
      await expectFailedOnce(
        migrations,
        JOBS.migrateTenants,
        { runId: 'latest', orgIds: [randomUUID()], requestId: 'spec' },
        /runId must be a lower-case uuid/,
      );
    });
  });
});
