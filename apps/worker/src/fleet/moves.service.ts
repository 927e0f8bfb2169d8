import { spawn } from 'node:child_process';
import { exitCodeOf, keepErrorOutput, redactPasswords, spawnPgDump } from '@orgms/common/data-safety/pg-dump';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { Logger } from '@orgms/common/logger';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { MOVE_STEPS, type MoveStep } from '@orgms/common/organizations/organization-status';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { markerFor, stagingNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { JobFailure } from '../job-failure';
import type { Pipeline } from '../pipelines/pipeline';
import { runPipeline } from '../pipelines/pipeline-runner';
import { DatabaseAdmin } from '../tenancy/database-admin';
import type { TenantRoles } from '../tenancy/tenant-roles';
import { endSessions, stopWrites, type WriteStopDeps } from '../tenancy/write-stop';
import type { OrganizationServers } from './organization-servers';
import type { PgBouncerDatabases } from './pgbouncer-databases';

export interface MoveOptions {
  requestId: string;
  /** The server the move started from: after the switch the organization's row names the target. */
  fromServerId: string;
  /** When true a failure is final: the move is rolled back and the organization stays on the source. */
  isLastAttempt: boolean;
}

export type MoveOutcome = 'moved' | 'source_dropped' | 'skipped';

export interface MoveDeps extends WriteStopDeps {
  store: OrganizationStore;
  servers: OrganizationServers;
  pgbouncer?: PgBouncerDatabases;
  /** The organization's own role: made on the target before the copy, owning the copy, dropped from the source with it. */
  roles: TenantRoles;
  logger: Logger;
  /** Called before each step; tests use it to slow or interrupt a move at a chosen point. */
  beforeStep?: (step: MoveStep, orgId: string) => Promise<void> | void;
}

/** One move run: the organization, both servers, and what the steps found. */
interface MoveRun {
  org: Organization;
  requestId: string;
  source: DatabaseServer;
  sourceAdmin: DatabaseAdmin;
  /** Where the organization moves; none when it has switched already (only the source remains to drop). */
  target?: DatabaseServer;
  /** Connected once the target is known to be another PostgreSQL instance than the source. */
  targetAdmin?: DatabaseAdmin;
  /** Whether the copy found on the target (a crash after the rename) is verified instead of a fresh one. */
  adopted?: boolean;
  startedAt: number;
}

/** How much of pg_restore's error output reaches `last_error`. */
const MAX_TOOL_ERROR = 500;

/**
 * Moves an organization's database to another server (docs/api/fleet.md), step by step: stop_writes
 * (the source becomes read-only and older sessions end), copy (pg_dump | pg_restore into a
 * staging database on the target), verify (schema version and row counts, then mark and rename
 * into place), switch (PgBouncer first, then the row), drop_source. Every step converges, so a
 * re-run after a crash starts again from stop_writes while the organization is `moving`, or
 * only drops the source once it is `active` on the target. A final failure rolls back: the
 * target copy is dropped and the source is writable again. Never two live copies, never none.
 */
export class MovesService {
  /**
   * A run resumes at drop_source once the organization is active on the target (it switched
   * before a crash), else starts again from stop_writes: every step converges. A final failure
   * before the switch undoes the copy (the target copy and the role made there go), then the
   * stop of writes (the source is writable again), and leaves the organization active where it
   * was; once switched, nothing is rolled back and drop_source is retried.
   */
  readonly pipeline: Pipeline<MoveRun, MoveStep> = {
    name: 'move',
    order: MOVE_STEPS,
    steps: {
      stop_writes: {
        run: ({ org, sourceAdmin }) => stopWrites(this.deps, org, sourceAdmin),
        compensate: ({ org, sourceAdmin }) => sourceAdmin.setReadOnly(org.databaseName, false),
      },
      copy: {
        run: async (run) => {
          run.adopted = await this.copy(run.org, run.source, run.target as DatabaseServer, run.targetAdmin as DatabaseAdmin);
          return { adopted: run.adopted };
        },
        // The staging copy, and the final name only when it carries our marker (never someone
        // else's database); then the role made there for it.
        compensate: async ({ org, target, targetAdmin }) => {
          if (!targetAdmin || !target) return;
          await targetAdmin.dropDatabase(org.id, org.databaseName);
          await this.deps.roles.dropFrom(org, target);
        },
      },
      verify: {
        run: (run) => this.verifyAndPlace(run.org, run.source, run.target as DatabaseServer, run.targetAdmin as DatabaseAdmin, run.adopted === true),
      },
      switch: {
        run: async (run) => {
          await this.switchTo(run.org, run.target as DatabaseServer, run.requestId);
          this.deps.logger.info('organization switched to its new server', { from: run.source.name, to: run.target?.name, ms: Date.now() - run.startedAt });
        },
      },
      drop_source: {
        // The organization is active on the target: read again, with the target its server now.
        run: async (run) => this.dropSource(await this.deps.store.get(run.org.id), run.source, run.sourceAdmin, run.requestId),
      },
    },
    resumeAt: async (run) => {
      if (run.org.status === 'active') return 'drop_source';
      const target = run.target as DatabaseServer;
      const admin = await DatabaseAdmin.connect(target.adminUrl);
      if ((await admin.instanceIdentity()) === (await run.sourceAdmin.instanceIdentity())) {
        await admin.close();
        // Its "copy" would be the source itself: nothing on it may be dropped, not even by the rollback.
        throw new JobFailure(`${target.name} is the same PostgreSQL server as ${run.source.name}`, { permanent: true });
      }
      run.targetAdmin = admin;
      return 'stop_writes';
    },
    // Active again after the switch: drop_source is recorded once done, as an event (dropSource).
    enter: async ({ org, requestId }, step) => {
      if (step !== 'drop_source') await this.deps.store.recordStep(org.id, 'moving', { step, requestId });
    },
    canRollBack: async ({ org }) => {
      const current = await this.deps.store.get(org.id);
      return current.status === 'moving' && current.databaseServerId === org.databaseServerId;
    },
    recordFailure: async ({ org, requestId }, { step, failure, final, rolledBack }) => {
      const { store, events } = this.deps;
      if (step === 'drop_source') return;
      if (!final) {
        await store.recordStep(org.id, 'moving', { step, detail: `will retry: ${failure.message}`, requestId, patch: { lastError: failure.message } });
      } else if (rolledBack) {
        await store.transition(org.id, 'active', {
          onlyFrom: ['moving'],
          step: null,
          detail: `move rolled back: ${failure.message}`,
          requestId,
          patch: { movingToServerId: null, lastError: failure.message },
        });
        events.publish({ type: 'evict', orgId: org.id });
      }
    },
  };

  constructor(private readonly deps: MoveDeps) {}

  async move(orgId: string, options: MoveOptions): Promise<MoveOutcome> {
    const { store, servers, logger } = this.deps;
    const first = await store.get(orgId);
    const sourceId = first.status === 'moving' ? first.databaseServerId : options.fromServerId;
    if (!sourceId) return 'skipped';
    const source = await servers.directory.get(sourceId);
    const sourceAdmin = await DatabaseAdmin.connect(source.adminUrl);
    try {
      // One mover per organization: a re-run (or the reconciler's job) waits for the one running.
      return await sourceAdmin.withLock(`move:${orgId}`, async () => {
        const org = await store.get(orgId);
        const switched = org.status === 'active';
        if (switched && (org.databaseServerId === options.fromServerId || org.movingToServerId === options.fromServerId)) {
          logger.info('nothing to move', { status: org.status });
          return 'skipped';
        }
        if (!switched && (org.status !== 'moving' || org.databaseServerId !== sourceId || !org.movingToServerId)) {
          logger.info('nothing to move', { status: org.status });
          return 'skipped';
        }
        const target = switched ? undefined : await servers.directory.get(org.movingToServerId as string);
        const run: MoveRun = { org, requestId: options.requestId, source, sourceAdmin, target, startedAt: Date.now() };
        const { beforeStep } = this.deps;
        try {
          await runPipeline(this.pipeline, run, {
            logger,
            isLastAttempt: options.isLastAttempt,
            beforeStep: beforeStep && ((step) => beforeStep(step, orgId)),
          });
        } finally {
          await run.targetAdmin?.close();
        }
        // Switched already (a crash after the switch): only the source copy remained to drop.
        return switched ? 'source_dropped' : 'moved';
      });
    } finally {
      await sourceAdmin.close();
    }
  }

  /**
   * A fresh staging copy on the target, unless a copy under the final name is already there with
   * our marker (a crash after the rename): that one is verified again instead (returns true).
   * The organization's role exists on the target first, with its one password, so the API's
   * cached login works there the moment it switches.
   */
  private async copy(org: Organization, source: DatabaseServer, target: DatabaseServer, targetAdmin: DatabaseAdmin): Promise<boolean> {
    await this.deps.roles.ensureOn(org, target);
    const existing = await targetAdmin.markerOf(org.databaseName);
    if (existing !== undefined) {
      if (existing !== markerFor(org.id)) {
        throw new JobFailure(`a database named ${org.databaseName} already exists on ${target.name} and does not belong to this organization`, {
          permanent: true,
        });
      }
      return true;
    }
    const staging = stagingNameFor(org.databaseName);
    await targetAdmin.dropDatabaseIfExists(staging);
    await targetAdmin.createDatabase(staging);
    await pipeDump(withDatabase(source.adminUrl, org.databaseName), withDatabase(target.adminUrl, staging));
    return false;
  }

  /**
   * Compares the copy with the source; a good copy is given to the organization's role (pg_restore
   * made the target's admin role its owner, and PUBLIC may connect to a new database), then a
   * staging copy is marked and renamed into place.
   */
  private async verifyAndPlace(org: Organization, source: DatabaseServer, target: DatabaseServer, targetAdmin: DatabaseAdmin, adopted: boolean): Promise<void> {
    const copyName = adopted ? org.databaseName : stagingNameFor(org.databaseName);
    const difference = await compareDatabases(withDatabase(source.adminUrl, org.databaseName), withDatabase(target.adminUrl, copyName));
    if (difference) {
      // Ours and never switched to: the next attempt copies again.
      if (adopted) await targetAdmin.dropDatabase(org.id, org.databaseName);
      throw new JobFailure(`the copy on ${target.name} differs from the source (${difference})`, { permanent: false });
    }
    // Recorded granted only once the organization has switched: until then its row names the source.
    await this.deps.roles.ownCopy(org, target, copyName);
    if (adopted) return;
    await targetAdmin.withLock(org.id, async () => {
      await targetAdmin.setMarker(copyName, markerFor(org.id));
      await targetAdmin.rename(copyName, org.databaseName);
    });
  }

  /** PgBouncer routes to the target before the row says so, so no write can reach the source after the switch. */
  private async switchTo(org: Organization, target: DatabaseServer, requestId: string): Promise<void> {
    const { store, pgbouncer, events } = this.deps;
    await pgbouncer?.sync({ [org.id]: target.id });
    await this.deps.roles.recordGranted(org, target);
    await store.transition(org.id, 'active', {
      onlyFrom: ['moving'],
      step: 'switch',
      requestId,
      detail: `moved to ${target.name}`,
      patch: { databaseServerId: target.id, movingToServerId: null, lastError: null },
    });
    await pgbouncer?.sync();
    events.publish({ type: 'evict', orgId: org.id });
  }

  /**
   * Ends the sessions still on the source copy, then drops it (only if it carries our marker),
   * and the organization's role there with it (kept if something else on the server uses it).
   */
  private async dropSource(org: Organization, source: DatabaseServer, sourceAdmin: DatabaseAdmin, requestId: string): Promise<void> {
    const { store, logger } = this.deps;
    await endSessions(sourceAdmin, org.databaseName, this.deps.sessionGraceMs);
    const outcome = await sourceAdmin.dropDatabase(org.id, org.databaseName);
    const role = await this.deps.roles.dropFrom(org, source);
    const detail = `${outcome.dropped.length > 0 ? `dropped ${outcome.dropped.join(', ')} on the source` : 'the source copy was already gone'}; role ${role}`;
    // Active again since the switch: the step is an event without a status change.
    await store
      .amend(org.id, { step: 'drop_source' }, { step: 'drop_source', requestId, detail })
      .catch((error) => logger.warn('could not record the drop of the source', { error: (error as Error).message }));
    logger.info('move source dropped', { ...outcome });
  }
}

/** pg_dump of `sourceUrl` piped into pg_restore on `targetUrl`; URLs go through argv, never a shell. */
async function pipeDump(sourceUrl: string, targetUrl: string): Promise<void> {
  const dump = spawnPgDump(sourceUrl);
  const restore = spawn('pg_restore', ['--no-owner', '--no-acl', '--exit-on-error', '-d', targetUrl], { stdio: ['pipe', 'ignore', 'pipe'] });
  const restoreErrors = keepErrorOutput(restore);
  restore.stdin.on('error', () => undefined); // pg_restore exited early: its own exit code says why
  dump.stdout.pipe(restore.stdin);
  const [dumpCode, restoreCode] = await Promise.all([dump.exited, exitCodeOf(restore)]);
  const clean = (text: string) => redactPasswords(text, [sourceUrl, targetUrl], MAX_TOOL_ERROR);
  if (restoreCode !== 0)
    throw new JobFailure(`pg_restore failed (exit ${restoreCode}): ${clean(restoreErrors()) || clean(dump.errors())}`, { permanent: false });
  if (dumpCode !== 0) throw new JobFailure(`pg_dump failed (exit ${dumpCode}): ${clean(dump.errors())}`, { permanent: false });
}

/** What differs between two copies (schema version, a table's row count), or undefined when nothing does. */
async function compareDatabases(sourceUrl: string, copyUrl: string): Promise<string | undefined> {
  const [source, copy] = await Promise.all([snapshotOf(sourceUrl), snapshotOf(copyUrl)]);
  if (source.version !== copy.version) return `schema version ${copy.version ?? 'none'} instead of ${source.version ?? 'none'}`;
  const tables = new Set([...source.counts.keys(), ...copy.counts.keys()]);
  for (const table of tables) {
    if (source.counts.get(table) !== copy.counts.get(table)) {
      return `table ${table}: ${copy.counts.get(table) ?? 'missing'} rows instead of ${source.counts.get(table) ?? 'missing'}`;
    }
  }
  return undefined;
}

async function snapshotOf(url: string): Promise<{ version: string | null; counts: Map<string, number> }> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const counts = new Map<string, number>();
    for (const { name } of tables) {
      // Table names come from the catalog; quoted as identifiers all the same.
      const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM public."${name.replace(/"/g, '""')}"`);
      counts.set(name, rows[0].n);
    }
    const version = counts.has('tenant_migrations')
      ? ((await client.query<{ name: string }>('SELECT name FROM tenant_migrations ORDER BY timestamp DESC, id DESC LIMIT 1')).rows[0]?.name ?? null)
      : null;
    return { version, counts };
  } finally {
    await client.end().catch(() => undefined);
  }
}
