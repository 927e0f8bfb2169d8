import { randomBytes, randomUUID } from 'node:crypto';
import { NotFoundError } from '@orgms/common/errors';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { SecretBox } from '@orgms/common/secret-box';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { scratchControlDatabase } from './support/control-database';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('Tracked runs (fleet migrations and drains share TrackedRunStore)', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let runs: TrackedRunStore;
  let serverId: string;

  before(async () => {
    ({ dataSource: ds, drop } = await scratchControlDatabase('tracked_runs'));
    runs = new TrackedRunStore(ds);
    const servers = new DatabaseServerStore(ds, new SecretBox({ id: 'k', key: randomBytes(32) }));
    serverId = (
      await servers.create({ name: 'pg-drained', adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', poolUrl: null, capacity: 10, connectionBudget: 5 })
    ).id;
  });
  after(() => drop?.());

  it('when an item is recorded twice (a duplicate job), then the first outcome stays and the totals count it once', async () => {
    const id = await runs.create({ kind: 'migration', targetVersion: 'V2' }, 'req-twice');
    const [a, b] = [randomUUID(), randomUUID()];
    await runs.plan(id, [{ orgId: a }, { orgId: b }], { templateOutcome: 'template migrated' });
    await runs.finishItem(id, a, 'succeeded');
    await runs.finishItem(id, a, 'failed', 'a late duplicate');
    await runs.finishItem(id, b, 'failed', 'migrate: broken');
    await runs.finishItem(id, b, 'failed', 'migrate: broken again');

    const run = await runs.get('migration', id);
    expect(run.totals).to.deep.equal({ total: 2, pending: 0, succeeded: 1, failed: 1, skipped: 0 });
    expect(run.failures.map((f) => [f.orgId, f.error])).to.deep.equal([[b, 'migrate: broken']]);
    expect((await runs.item(id, a))?.status).to.equal('succeeded');
    expect(run).to.include({ kind: 'migration', status: 'running', targetVersion: 'V2', templateOutcome: 'template migrated', requestId: 'req-twice' });
  });

  it('when the plan is recorded again (the planner re-run after a crash), then no item is added twice, newcomers are not added and the pending ones come back', async () => {
    const id = await runs.create({ kind: 'drain', serverId }, 'req-replan');
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()].sort();
    expect(await runs.plan(id, [{ orgId: a }, { orgId: b }])).to.deep.equal([a, b]);
    await runs.finishItem(id, a, 'succeeded');
    expect(await runs.plan(id, [{ orgId: a }, { orgId: b }, { orgId: c }])).to.deep.equal([b]);
    expect((await runs.get('drain', id)).totals).to.deep.equal({ total: 2, pending: 1, succeeded: 1, failed: 0, skipped: 0 });
  });

  it('when a planned item is already done (an organization at the target version), then it is skipped at once and counts as done', async () => {
    const id = await runs.create({ kind: 'migration', targetVersion: 'V2' }, 'req-skip');
    const [current, behind] = [randomUUID(), randomUUID()];
    const pending = await runs.plan(id, [
      { orgId: current, fromVersion: 'V2', skip: true },
      { orgId: behind, fromVersion: 'V1' },
    ]);
    expect(pending).to.deep.equal([behind]);
    const run = await runs.get('migration', id);
    expect(run.totals).to.deep.equal({ total: 2, pending: 1, succeeded: 0, failed: 0, skipped: 1 });
    expect(run.templateOutcome).to.equal(null);
  });

  it('when a run is completed twice, then it finishes once: the first finished_at stays', async () => {
    const id = await runs.create({ kind: 'drain', serverId }, 'req-complete');
    await runs.plan(id, []);
    await runs.complete(id);
    const first = await runs.get('drain', id);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await runs.complete(id);
    const second = await runs.get('drain', id);
    expect(first.status).to.equal('completed');
    expect(first.finishedAt).to.be.instanceOf(Date);
    expect(second.finishedAt?.getTime()).to.equal(first.finishedAt?.getTime());
    expect(second).to.include({ kind: 'drain', serverId });
  });

  it('when a run is read as another kind or under another server, then it does not exist, and a list shows one kind only', async () => {
    const migration = await runs.create({ kind: 'migration', targetVersion: 'V2' }, 'req-kind');
    const drain = await runs.create({ kind: 'drain', serverId }, 'req-kind');
    expect(await rejection(runs.get('drain', migration))).to.be.instanceOf(NotFoundError);
    expect(await rejection(runs.get('migration', drain))).to.be.instanceOf(NotFoundError);
    expect(await rejection(runs.get('drain', drain, { serverId: randomUUID() }))).to.be.instanceOf(NotFoundError);
    expect((await runs.get('drain', drain, { serverId })).id).to.equal(drain);

    const listed = await runs.list('migration', { limit: 100 });
    expect(listed.items.map((r) => r.kind)).to.satisfy((kinds: string[]) => kinds.every((k) => k === 'migration'));
    expect(listed.items.map((r) => r.id))
      .to.include(migration)
      .and.not.include(drain);
  });

  it('when a drain is started, then the audit log records it in the same transaction, and a removed run is gone', async () => {
    const id = await runs.create({ kind: 'drain', serverId }, 'req-audit', (runId) => ({
      action: 'database_server.drain_started',
      target: { type: 'database_server', id: serverId },
      details: { drain_id: runId },
    }));
    const [entry] = await ds.query(`SELECT action, details FROM audit_log WHERE details->>'drain_id' = $1`, [id]);
    expect(entry).to.deep.equal({ action: 'database_server.drain_started', details: { drain_id: id } });
    await runs.remove(id);
    expect(await rejection(runs.get('drain', id))).to.be.instanceOf(NotFoundError);
  });
});
