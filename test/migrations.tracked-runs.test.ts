import { randomBytes, randomUUID } from 'node:crypto';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { expect } from 'chai';
import { Client } from 'pg';
import { TrackedRuns1732795000000 } from '../migrations/control/1732795000000-TrackedRuns';
import { controlMigrationsUpTo } from './support/control-database';

const SERVER = 'postgres://postgres@127.0.0.1:5432';

const controlDataSource = (database: string, upTo: 'before' | 'with') => controlMigrationsUpTo(database, TrackedRuns1732795000000, upTo);

describe('Control migration 1732795000000: migration runs and drains become tracked runs', () => {
  const database = `orgms_test_tracked_${randomBytes(4).toString('hex')}`;
  const ids = { run: randomUUID(), drain: randomUUID(), server: randomUUID(), target: randomUUID(), a: randomUUID(), b: randomUUID() };
  let server: Client;

  before(async () => {
    server = new Client({ connectionString: `${SERVER}/postgres` });
    await server.connect();
    await server.query(`CREATE DATABASE ${database}`);
    const old = await controlDataSource(database, 'before').initialize();
    try {
      await old.runMigrations();
      for (const [id, name] of [
        [ids.server, 'pg-a'],
        [ids.target, 'pg-b'],
      ]) {
        await old.query(
          `INSERT INTO database_servers (id, name, admin_url_secret, capacity, connection_budget, status) VALUES ($1, $2, 'v1.k.sealed', 10, 5, 'draining')`,
          [id, name],
        );
      }
      await old.query(
        `INSERT INTO migration_runs (id, status, target_version, template_outcome, request_id, created_at, started_at, finished_at)
         VALUES ($1, 'completed', 'V2', 'template migrated', 'req-run', '2026-01-01T00:00:00.123Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:09Z')`,
        [ids.run],
      );
      await old.query(
        `INSERT INTO migration_run_items (run_id, org_id, status, from_version, error, finished_at)
         VALUES ($1, $2, 'succeeded', 'V1', NULL, '2026-01-01T00:00:05Z'), ($1, $3, 'failed', 'V1', 'migrate: broken', '2026-01-01T00:00:06Z')`,
        [ids.run, ids.a, ids.b],
      );
      await old.query(
        `INSERT INTO server_drains (id, server_id, status, request_id, created_at, started_at) VALUES ($1, $2, 'running', 'req-drain', '2026-01-02T00:00:00Z', '2026-01-02T00:00:01Z')`,
        [ids.drain, ids.server],
      );
      await old.query(
        `INSERT INTO server_drain_items (drain_id, org_id, status, target_server_id, error, finished_at)
         VALUES ($1, $2, 'succeeded', $4, NULL, '2026-01-02T00:00:05Z'), ($1, $3, 'pending', $4, NULL, NULL)`,
        [ids.drain, ids.a, ids.b, ids.target],
      );
    } finally {
      await old.destroy();
    }
  });

  after(async () => {
    await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await server.end();
  });

  it('when it runs, then every migration run and drain with its items is a tracked run of its kind, as the store reads it', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.runMigrations();
      const runs = new TrackedRunStore(ds);
      const run = await runs.get('migration', ids.run);
      expect(run).to.deep.include({
        kind: 'migration',
        status: 'completed',
        targetVersion: 'V2',
        templateOutcome: 'template migrated',
        requestId: 'req-run',
        totals: { total: 2, pending: 0, succeeded: 1, failed: 1, skipped: 0 },
      });
      expect(run.createdAt.toISOString()).to.equal('2026-01-01T00:00:00.123Z');
      expect(run.failures).to.deep.equal([{ orgId: ids.b, error: 'migrate: broken', finishedAt: new Date('2026-01-01T00:00:06Z') }]);

      const drain = await runs.get('drain', ids.drain, { serverId: ids.server });
      expect(drain).to.deep.include({
        kind: 'drain',
        status: 'running',
        serverId: ids.server,
        requestId: 'req-drain',
        totals: { total: 2, pending: 1, succeeded: 1, failed: 0, skipped: 0 },
      });
      expect(await runs.item(ids.drain, ids.b)).to.deep.equal({ status: 'pending', targetServerId: ids.target });
      expect(await runs.plan(ids.drain, [])).to.deep.equal([ids.b]);

      const tables: { table_name: string }[] = await ds.query(
        `SELECT table_name FROM information_schema.tables WHERE table_name IN ('migration_runs','migration_run_items','server_drains','server_drain_items')`,
      );
      expect(tables).to.deep.equal([]);
    } finally {
      await ds.destroy();
    }
  });

  it('when it is undone, then the runs and drains are back in their own tables with their items', async () => {
    const ds = await controlDataSource(database, 'with').initialize();
    try {
      await ds.undoLastMigration();
      const [run] = await ds.query(`SELECT status, target_version, template_outcome, request_id, created_at FROM migration_runs WHERE id = $1`, [ids.run]);
      expect(run).to.deep.equal({
        status: 'completed',
        target_version: 'V2',
        template_outcome: 'template migrated',
        request_id: 'req-run',
        created_at: new Date('2026-01-01T00:00:00.123Z'),
      });
      const runItems = await ds.query(`SELECT org_id, status, from_version, error FROM migration_run_items WHERE run_id = $1 ORDER BY status`, [ids.run]);
      expect(runItems).to.deep.equal([
        { org_id: ids.b, status: 'failed', from_version: 'V1', error: 'migrate: broken' },
        { org_id: ids.a, status: 'succeeded', from_version: 'V1', error: null },
      ]);
      const [drain] = await ds.query(`SELECT server_id, status, request_id FROM server_drains WHERE id = $1`, [ids.drain]);
      expect(drain).to.deep.equal({ server_id: ids.server, status: 'running', request_id: 'req-drain' });
      const drainItems = await ds.query(`SELECT org_id, status, target_server_id FROM server_drain_items WHERE drain_id = $1 ORDER BY status`, [ids.drain]);
      expect(drainItems).to.deep.equal([
        { org_id: ids.b, status: 'pending', target_server_id: ids.target },
        { org_id: ids.a, status: 'succeeded', target_server_id: ids.target },
      ]);
      const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('tracked_runs', 'tracked_run_items')`);
      expect(n).to.equal(0);
    } finally {
      await ds.destroy();
    }
  });
});
