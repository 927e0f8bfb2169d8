import { tmpdir } from 'node:os';
import { MOVE_STEPS, PROVISIONING_STEPS, PURGE_STEPS, RESTORE_STEPS } from '@orgms/common/organizations/organization-status';
import { ArchiveRestorer } from '@orgms/worker/data-safety/archive-restore';
import { BackupRestoresService } from '@orgms/worker/data-safety/backup-restores.service';
import { OrganizationDumpsService } from '@orgms/worker/data-safety/organization-dumps.service';
import { MovesService } from '@orgms/worker/fleet/moves.service';
import { ProvisioningService } from '@orgms/worker/organizations/provisioning.service';
import { PurgeService } from '@orgms/worker/organizations/purge.service';
import type { Pipeline } from '@orgms/worker/pipelines/pipeline';
import { runPipeline } from '@orgms/worker/pipelines/pipeline-runner';
import { expect } from 'chai';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
const PRIVILEGE = Object.assign(new Error('permission denied to create database'), { code: '42501' });
const UNAVAILABLE = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

/** Calls made on a stand-in of a store or service, by method name, with their arguments. */
function recorder(): { calls: [string, unknown[]][]; fake: never } {
  const calls: [string, unknown[]][] = [];
  const fake = new Proxy(
    {},
    {
      get:
        (_target, method: string) =>
        async (...args: unknown[]) => {
          calls.push([method, args]);
        },
    },
  );
  return { calls, fake: fake as never };
}

function stepsWithCompensation<R, S extends string>(pipeline: Pipeline<R, S>): S[] {
  return pipeline.order.filter((step) => pipeline.steps[step].compensate !== undefined);
}

/** The first step's run fails with `error`; returns the thrown failure's permanence and what was recorded. */
async function firstStepFails<R, S extends string>(pipeline: Pipeline<R, S>, run: R, isLastAttempt: boolean) {
  const error = await runPipeline(pipeline, run, { logger: silent, isLastAttempt }).then(
    () => undefined,
    (e: unknown) => e as { permanent: boolean; message: string },
  );
  expect(error, 'the run failed').to.not.equal(undefined);
  return error as { permanent: boolean; message: string };
}

describe('Pipeline declarations (no servers)', () => {
  describe('provisioning', () => {
    const org = { id: 'org-1', name: 'Acme', attempts: 1 };
    function service(failure: unknown) {
      const store = recorder();
      const provisioning = new ProvisioningService({
        store: store.fake,
        servers: { of: () => Promise.reject(failure) },
        logger: silent,
      } as never);
      return { store, pipeline: provisioning.pipeline };
    }

    it('when declared, then its steps are the provisioning steps in order, none with a compensation', () => {
      const { pipeline } = service(undefined);
      expect(pipeline.name).to.equal('provisioning');
      expect(pipeline.order).to.deep.equal(['create_database', 'database_role', 'migrate', 'seed_admin', 'activate']);
      expect(pipeline.order).to.equal(PROVISIONING_STEPS);
      expect(Object.keys(pipeline.steps)).to.have.members([...PROVISIONING_STEPS]);
      expect(stepsWithCompensation(pipeline)).to.deep.equal([]);
    });

    it('when a step fails for a missing privilege, then the failure is permanent and the organization becomes failed', async () => {
      const { store, pipeline } = service(PRIVILEGE);
      const failure = await firstStepFails(pipeline, { org, requestId: 'r' } as never, false);
      expect(failure.permanent).to.equal(true);
      expect(store.calls.map(([method, args]) => [method, args[1]])).to.deep.equal([
        ['recordStep', 'provisioning'],
        ['transition', 'failed'],
      ]);
    });

    it('when a step fails because PostgreSQL was unavailable, then it is transient and recorded as "will retry" until the last attempt', async () => {
      const retried = service(UNAVAILABLE);
      expect((await firstStepFails(retried.pipeline, { org, requestId: 'r' } as never, false)).permanent).to.equal(false);
      expect(retried.store.calls[1])
        .to.have.nested.property('[1][2].detail')
        .that.matches(/^will retry: create_database: PostgreSQL was unavailable/);
      const last = service(UNAVAILABLE);
      await firstStepFails(last.pipeline, { org, requestId: 'r' } as never, true);
      expect(last.store.calls[1]?.[0]).to.equal('transition');
    });
  });

  describe('dump (exports and backups)', () => {
    function service(failure: unknown, get: () => Promise<unknown> = () => Promise.reject(failure)) {
      const dumps = recorder();
      const service = new OrganizationDumpsService({
        store: { get },
        dumps: dumps.fake,
        logger: silent,
        kinds: { export: { dir: tmpdir(), ttlMs: () => 1 }, backup: { dir: tmpdir(), ttlMs: () => null } },
      } as never);
      return { dumps, pipeline: service.pipeline };
    }
    const run = { dump: { id: 'export-1', orgId: 'org-1', kind: 'export' } } as never;

    it('when declared, then its steps are dump then verify, without a compensation', () => {
      const { pipeline } = service(undefined);
      expect(pipeline.name).to.equal('dump');
      expect(pipeline.order).to.deep.equal(['dump', 'verify']);
      expect(stepsWithCompensation(pipeline)).to.deep.equal([]);
    });

    it('when the dump fails transiently before the last attempt, then it is left to the retry; on the last attempt it is failed', async () => {
      const retried = service(UNAVAILABLE);
      expect((await firstStepFails(retried.pipeline, run, false)).permanent).to.equal(false);
      expect(retried.dumps.calls).to.deep.equal([]);
      const last = service(UNAVAILABLE);
      await firstStepFails(last.pipeline, run, true);
      expect(last.dumps.calls.map(([method]) => method)).to.deep.equal(['fail']);
    });

    it('when the organization is not active, then the failure is permanent and the export failed at once', async () => {
      const { dumps, pipeline } = service(undefined, async () => ({ status: 'deleted' }));
      const failure = await firstStepFails(pipeline, run, false);
      expect(failure).to.include({ permanent: true, message: 'dump: the organization is deleted; only an active organization is exported' });
      expect(dumps.calls.map(([method]) => method)).to.deep.equal(['fail']);
    });
  });

  describe('purge', () => {
    function service(failure: unknown) {
      const store = recorder();
      const events = recorder();
      const purges = new PurgeService({ store: store.fake, events: events.fake, servers: { of: () => Promise.reject(failure) }, logger: silent } as never);
      return { store, pipeline: purges.pipeline };
    }
    const run = { org: { id: 'org-1' }, requestId: 'r' } as never;

    it('when declared, then its steps are archive, verify_archive, drop_database in order, none with a compensation', () => {
      const { pipeline } = service(undefined);
      expect(pipeline.name).to.equal('purge');
      expect(pipeline.order).to.equal(PURGE_STEPS);
      expect(pipeline.order).to.deep.equal(['archive', 'verify_archive', 'drop_database']);
      expect(stepsWithCompensation(pipeline)).to.deep.equal([]);
    });

    it('when the database server cannot be reached, then the failure counts as the archive step and is recorded as the reason, purging still, attempt or not', async () => {
      for (const isLastAttempt of [false, true]) {
        const { store, pipeline } = service(UNAVAILABLE);
        const failure = await firstStepFails(pipeline, run, isLastAttempt);
        expect(failure).to.include({ permanent: false, message: 'archive: PostgreSQL was unavailable (SQLSTATE 57P01)' });
        expect(store.calls).to.deep.equal([
          ['recordStep', ['org-1', 'purging', { step: 'archive', requestId: 'r', detail: failure.message, patch: { lastError: failure.message } }]],
        ]);
      }
    });

    it('when the failure is one no retry can fix, then it is permanent', async () => {
      expect((await firstStepFails(service(PRIVILEGE).pipeline, run, false)).permanent).to.equal(true);
    });
  });

  describe('move', () => {
    /** The organization as the store has it when the failure is handled: still moving from the source, or switched already. */
    function service(current: { status: string; databaseServerId: string }) {
      const calls: [string, unknown[]][] = [];
      const store = {
        get: async () => current,
        recordStep: async (...args: unknown[]) => calls.push(['recordStep', args]),
        transition: async (...args: unknown[]) => calls.push(['transition', args]),
      };
      const events = { publish: (event: unknown) => calls.push(['publish', [event]]) };
      const moves = new MovesService({ store, events, logger: silent, sessionGraceMs: 0 } as never);
      return { calls, pipeline: moves.pipeline };
    }
    /** A source that records what is done on it, and a target no one listens on (the connection is refused). */
    function moveRun(sourceCalls: [string, unknown[]][], endSessions?: unknown) {
      const sourceAdmin = {
        setReadOnly: async (...args: unknown[]) => sourceCalls.push(['setReadOnly', args]),
        sessionsOn: async () => (endSessions ? Promise.reject(endSessions) : []),
      };
      return {
        org: { id: 'org-1', status: endSessions ? 'active' : 'moving', databaseName: 'orgms_org_1', databaseServerId: 'source' },
        requestId: 'r',
        source: { name: 'source' },
        sourceAdmin,
        target: { name: 'target', adminUrl: 'postgres://postgres@127.0.0.1:1/postgres' },
      } as never;
    }

    it('when declared, then its steps are the move steps in order, and stop_writes and copy can be undone', () => {
      const { pipeline } = service({ status: 'moving', databaseServerId: 'source' });
      expect(pipeline.name).to.equal('move');
      expect(pipeline.order).to.equal(MOVE_STEPS);
      expect(stepsWithCompensation(pipeline)).to.deep.equal(['stop_writes', 'copy']);
    });

    it('when the target cannot be reached before the last attempt, then the failure is transient and recorded as "will retry"', async () => {
      const { calls, pipeline } = service({ status: 'moving', databaseServerId: 'source' });
      const source: [string, unknown[]][] = [];
      const failure = await firstStepFails(pipeline, moveRun(source), false);
      expect(failure.permanent).to.equal(false);
      expect(failure.message).to.match(/^stop_writes: /);
      expect(source).to.deep.equal([]);
      expect(calls.map(([method]) => method)).to.deep.equal(['recordStep']);
      expect(calls[0])
        .to.have.nested.property('[1][2].detail')
        .that.matches(/^will retry: stop_writes: /);
    });

    it('when it fails on the last attempt, then it is rolled back: the source takes writes again and the organization is active where it was', async () => {
      const { calls, pipeline } = service({ status: 'moving', databaseServerId: 'source' });
      const source: [string, unknown[]][] = [];
      await firstStepFails(pipeline, moveRun(source), true);
      expect(source).to.deep.equal([['setReadOnly', ['orgms_org_1', false]]]);
      expect(calls.map(([method, args]) => [method, args[1]])).to.deep.equal([
        ['transition', 'active'],
        ['publish', undefined],
      ]);
      expect(calls[0])
        .to.have.nested.property('[1][2].detail')
        .that.matches(/^move rolled back: stop_writes: /);
    });

    it('when the organization has switched to its target, then a failure to drop the source is never rolled back nor recorded as moving', async () => {
      const { calls, pipeline } = service({ status: 'active', databaseServerId: 'target' });
      const source: [string, unknown[]][] = [];
      const failure = await firstStepFails(pipeline, moveRun(source, PRIVILEGE), true);
      expect(failure.message).to.match(/^drop_source: /);
      expect(source).to.deep.equal([]);
      expect(calls).to.deep.equal([]);
    });
  });

  describe('archive restore', () => {
    const archives = { getRestoreSource: async () => ({ kind: 'archive', fileName: 'not-there.dump', sizeBytes: 10, sha256: '00' }) };

    it('when declared, then it verifies the archive before restoring it, with nothing to undo', () => {
      const { pipeline } = new ArchiveRestorer(archives as never, { archive: tmpdir(), backup: tmpdir() }, silent);
      expect(pipeline.name).to.equal('archive_restore');
      expect(pipeline.order).to.deep.equal(['verify_archive', 'restore']);
      expect(stepsWithCompensation(pipeline)).to.deep.equal([]);
    });

    it('when the archive cannot be verified, then the failure is permanent and nothing is restored', async () => {
      const restorer = new ArchiveRestorer(archives as never, { archive: tmpdir(), backup: tmpdir() }, silent);
      const error = await restorer.restoreInto('archive-1', 'postgres://postgres@127.0.0.1:1/postgres', 'orgms_staging').then(
        () => undefined,
        (e: unknown) => e as { permanent: boolean; message: string },
      );
      expect(error).to.include({ permanent: true });
      expect(error?.message).to.match(/^verify_archive: archive not-there\.dump: /);
    });
  });

  describe('in-place restore', () => {
    const DB = 'orgms_org_1';
    function service(preRestore?: { status: string }) {
      const calls: [string, unknown[]][] = [];
      const store = {
        recordStep: async (...args: unknown[]) => calls.push(['recordStep', args]),
        transition: async (...args: unknown[]) => calls.push(['transition', args]),
      };
      const events = { publish: (event: unknown) => calls.push(['publish', [event]]) };
      const dumps = { get: async () => ({ id: 'pre-1', ...preRestore }) };
      const restores = new BackupRestoresService({ store, events, dumps, logger: silent, sessionGraceMs: 0 } as never);
      return { calls, pipeline: restores.pipeline };
    }
    /** A server holding these databases (name → marker); what is done on it is recorded; serverNow fails with `failure`. */
    function restoreRun(databases: Record<string, string>, admin: [string, unknown[]][], failure: unknown, preRestoreBackupId: string | null = null) {
      const record =
        (method: string, result?: () => Promise<unknown>) =>
        async (...args: unknown[]) => {
          admin.push([method, args]);
          if (result) return result();
        };
      return {
        org: { id: 'org-1', databaseName: DB, preRestoreBackupId },
        backup: { id: 'backup-1', manifest: {} },
        requestId: 'r',
        isLastAttempt: true,
        server: { adminUrl: 'postgres://postgres@127.0.0.1:1/postgres' },
        admin: {
          markerOf: async (name: string) => databases[name],
          holds: async (_orgId: string, name: string) => databases[name] === 'orgms:organization:org-1',
          setReadOnly: record('setReadOnly'),
          serverNow: record('serverNow', () => Promise.reject(failure)),
          dropDatabaseIfExists: record('dropDatabaseIfExists'),
          withLock: record('withLock', () => Promise.reject(failure)),
        },
      } as never;
    }
    const ours = 'orgms:organization:org-1';

    it('when declared, then its steps are the restore steps in order, and stop_writes and restore can be undone', () => {
      const { pipeline } = service();
      expect(pipeline.name).to.equal('restore');
      expect(pipeline.order).to.equal(RESTORE_STEPS);
      expect(stepsWithCompensation(pipeline)).to.deep.equal(['stop_writes', 'restore']);
    });

    it('when a run resumes, then it starts where the databases say: the drop once swapped, the swap once the live database is renamed away, the restore once the pre_restore backup is verified, else the start', async () => {
      const resume = (databases: Record<string, string>, pre?: { status: string }) =>
        service(pre).pipeline.resumeAt?.(restoreRun(databases, [], undefined, pre ? 'pre-1' : null) as never);
      expect(await resume({ [DB]: ours, [`${DB}_old`]: ours })).to.equal('drop_old');
      expect(await resume({ [DB]: ours, [`${DB}_old`]: ours, [`${DB}_new`]: ours })).to.equal('swap');
      expect(await resume({ [`${DB}_old`]: ours, [`${DB}_new`]: ours })).to.equal('swap');
      expect(await resume({ [DB]: ours, [`${DB}_new`]: '' }, { status: 'verified' })).to.equal('restore');
      expect(await resume({ [DB]: ours }, { status: 'running' })).to.equal('stop_writes');
      expect(await resume({ [DB]: ours })).to.equal('stop_writes');
    });

    it('when it fails for good before the swap, then it is rolled back: the live database takes writes again and the organization is active on its old data', async () => {
      const { calls, pipeline } = service();
      const admin: [string, unknown[]][] = [];
      const failure = await firstStepFails(pipeline, restoreRun({ [DB]: ours }, admin, PRIVILEGE), true);
      expect(failure.message).to.match(/^stop_writes: /);
      expect(admin.filter(([method]) => method === 'setReadOnly')).to.deep.equal([
        ['setReadOnly', [DB, true]],
        ['setReadOnly', [DB, false]],
      ]);
      expect(calls.map(([method, args]) => [method, args[1]])).to.deep.equal([
        ['recordStep', 'restoring'],
        ['transition', 'active'],
        ['publish', undefined],
      ]);
      expect(calls[1])
        .to.have.nested.property('[1][2].detail')
        .that.matches(/^restore rolled back: stop_writes: /);
    });

    it('when it fails for good after the live database was renamed away, then nothing is rolled back and the failure is recorded for the next run to carry on', async () => {
      const { calls, pipeline } = service();
      const admin: [string, unknown[]][] = [];
      const failure = await firstStepFails(pipeline, restoreRun({ [`${DB}_old`]: ours, [`${DB}_new`]: ours }, admin, UNAVAILABLE), true);
      expect(failure.message).to.match(/^swap: /);
      expect(admin.map(([method]) => method)).to.deep.equal(['withLock']);
      expect(calls.map(([method, args]) => [method, args[1]])).to.deep.equal([
        ['recordStep', 'restoring'],
        ['recordStep', 'restoring'],
      ]);
      expect(calls[1])
        .to.have.nested.property('[1][2].detail')
        .that.matches(/^will retry: swap: /);
    });
  });
});
