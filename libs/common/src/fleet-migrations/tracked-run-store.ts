import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditLogStore, type NewAuditEntry } from '../audit/audit-log-store';
import { NotFoundError } from '../errors';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';

export type TrackedRunStatus = 'queued' | 'running' | 'completed';
export type TrackedItemStatus = 'pending' | 'succeeded' | 'failed' | 'skipped';

/** What each kind of run adds to the shared part: a fleet migration its target, a drain its server; database limits nothing. */
export type TrackedRunKinds = {
  migration: { targetVersion: string; templateOutcome: string | null };
  drain: { serverId: string };
  database_limits: Record<never, never>;
};
export type TrackedRunKind = keyof TrackedRunKinds;

export type NewTrackedRun = { kind: 'migration'; targetVersion: string } | { kind: 'drain'; serverId: string } | { kind: 'database_limits' };

interface RunProgress {
  id: string;
  status: TrackedRunStatus;
  requestId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  totals: Record<TrackedItemStatus | 'total', number>;
}

/** A run with its counts; of one kind, or (by default) of either, told apart by `kind`. */
export type TrackedRunSummary<K extends TrackedRunKind = TrackedRunKind> = K extends TrackedRunKind ? RunProgress & { kind: K } & TrackedRunKinds[K] : never;

export interface TrackedRunFailure {
  orgId: string;
  error: string | null;
  finishedAt: Date | null;
}

export type TrackedRun<K extends TrackedRunKind = TrackedRunKind> = TrackedRunSummary<K> & { failures: TrackedRunFailure[] };

/** One organization of a plan; `skip` when it needs nothing (recorded done at once). */
export interface PlannedItem {
  orgId: string;
  fromVersion?: string | null;
  skip?: boolean;
}

/** How answers name a run of each kind (404 details). */
const NOUNS: Record<TrackedRunKind, string> = { migration: 'Migration run', drain: 'Drain', database_limits: 'Database limits run' };

const SUMMARY = `
  SELECT r.id, r.kind, r.status, r.request_id AS "requestId",
         r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt",
         r.target_version AS "targetVersion", r.template_outcome AS "templateOutcome", r.server_id AS "serverId",
         count(i.org_id)::int AS total,
         (count(*) FILTER (WHERE i.status = 'pending'))::int AS pending,
         (count(*) FILTER (WHERE i.status = 'succeeded'))::int AS succeeded,
         (count(*) FILTER (WHERE i.status = 'failed'))::int AS failed,
         (count(*) FILTER (WHERE i.status = 'skipped'))::int AS skipped
    FROM tracked_runs r LEFT JOIN tracked_run_items i ON i.run_id = r.id`;

// The table's checks make a migration's target and a drain's server present.
type SummaryRow = Omit<RunProgress, 'totals'> & {
  kind: TrackedRunKind;
  targetVersion: string;
  templateOutcome: string | null;
  serverId: string;
} & Record<TrackedItemStatus | 'total', number>;

function toSummary(row: SummaryRow): TrackedRunSummary {
  const { total, pending, succeeded, failed, skipped, kind, targetVersion, templateOutcome, serverId, ...run } = row;
  const progress = { ...run, totals: { total, pending, succeeded, failed, skipped } };
  if (kind === 'migration') return { ...progress, kind, targetVersion, templateOutcome };
  return kind === 'drain' ? { ...progress, kind, serverId } : { ...progress, kind };
}

/**
 * The one owner of `tracked_runs` and `tracked_run_items`: runs over many organizations, one
 * item each — fleet migrations (`migration`), drains of a database server (`drain`) and database
 * limits set on every organization's role (`database_limits`). Every
 * write is idempotent (planned once, insert-if-absent, first terminal outcome wins, finished
 * once), because the jobs that make them may run more than once after a crash.
 */
export class TrackedRunStore {
  constructor(private readonly dataSource: DataSource) {}

  /** A queued run; `audit` is recorded in the same transaction (a drain's start is audited). */
  async create(run: NewTrackedRun, requestId: string, audit?: (runId: string) => NewAuditEntry): Promise<string> {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO tracked_runs (id, kind, status, request_id, target_version, server_id) VALUES ($1, $2, 'queued', $3, $4, $5)`, [
        id,
        run.kind,
        requestId,
        run.kind === 'migration' ? run.targetVersion : null,
        run.kind === 'drain' ? run.serverId : null,
      ]);
      if (audit) await new AuditLogStore(manager).record(audit(id));
    });
    return id;
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM tracked_runs WHERE id = $1`, [id]);
  }

  /**
   * Records the plan once, while the run is queued, and marks it running (with a migration's
   * template outcome); returns the items still pending, read back, so a re-run after a crash
   * continues with the same plan and adds no organization that arrived later.
   */
  async plan(id: string, items: PlannedItem[], details: { templateOutcome?: string } = {}): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      const [run] = await manager.query(`SELECT status FROM tracked_runs WHERE id = $1 FOR UPDATE`, [id]);
      if (!run) throw new NotFoundError(`Run ${id} does not exist.`);
      if (run.status === 'queued') {
        await manager.query(
          `INSERT INTO tracked_run_items (run_id, org_id, status, from_version, finished_at)
           SELECT $1, o.id, CASE WHEN o.skip THEN 'skipped' ELSE 'pending' END, o.from_version, CASE WHEN o.skip THEN now() END
             FROM unnest($2::uuid[], $3::varchar[], $4::boolean[]) AS o(id, from_version, skip)
           ON CONFLICT (run_id, org_id) DO NOTHING`,
          [id, items.map((i) => i.orgId), items.map((i) => i.fromVersion ?? null), items.map((i) => i.skip ?? false)],
        );
        await manager.query(`UPDATE tracked_runs SET status = 'running', template_outcome = $2, started_at = coalesce(started_at, now()) WHERE id = $1`, [
          id,
          details.templateOutcome ?? null,
        ]);
      }
      const rows: { orgId: string }[] = await manager.query(
        `SELECT org_id AS "orgId" FROM tracked_run_items WHERE run_id = $1 AND status = 'pending' ORDER BY org_id`,
        [id],
      );
      return rows.map((r) => r.orgId);
    });
  }

  async item(id: string, orgId: string): Promise<{ status: TrackedItemStatus; targetServerId: string | null } | undefined> {
    const [row] = await this.dataSource.query(`SELECT status, target_server_id AS "targetServerId" FROM tracked_run_items WHERE run_id = $1 AND org_id = $2`, [
      id,
      orgId,
    ]);
    return row;
  }

  /** Those of `orgIds` whose item in the run is still pending (a batch re-run skips the others). */
  async pendingAmong(id: string, orgIds: string[]): Promise<Set<string>> {
    const rows: { orgId: string }[] = await this.dataSource.query(
      `SELECT org_id AS "orgId" FROM tracked_run_items WHERE run_id = $1 AND org_id = ANY($2::uuid[]) AND status = 'pending'`,
      [id, orgIds],
    );
    return new Set(rows.map((r) => r.orgId));
  }

  /** Where a drain item's organization is being moved (set before the move starts, for the report). */
  async setItemTarget(id: string, orgId: string, targetServerId: string): Promise<void> {
    await this.dataSource.query(`UPDATE tracked_run_items SET target_server_id = $3 WHERE run_id = $1 AND org_id = $2 AND status = 'pending'`, [
      id,
      orgId,
      targetServerId,
    ]);
  }

  /** The first terminal outcome wins: a duplicate job cannot overwrite a recorded result. */
  async finishItem(id: string, orgId: string, status: Exclude<TrackedItemStatus, 'pending'>, error: string | null = null): Promise<void> {
    await this.finishItems(id, [orgId], status, error);
  }

  /** The same outcome for several items in one statement (a fleet migration batch records what it migrated so far at once). */
  async finishItems(id: string, orgIds: string[], status: Exclude<TrackedItemStatus, 'pending'>, error: string | null = null): Promise<void> {
    await this.dataSource.query(
      `UPDATE tracked_run_items SET status = $3, error = $4, finished_at = now() WHERE run_id = $1 AND org_id = ANY($2::uuid[]) AND status = 'pending'`,
      [id, orgIds, status, error],
    );
  }

  async complete(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE tracked_runs SET status = 'completed', finished_at = now() WHERE id = $1 AND status <> 'completed'`, [id]);
  }

  /** The run of this kind with this id; 404 when none, or when `scope` names another server. */
  get(kind: 'migration', id: string): Promise<TrackedRun<'migration'>>;
  get(kind: 'drain', id: string, scope?: { serverId: string }): Promise<TrackedRun<'drain'>>;
  get(kind: 'database_limits', id: string): Promise<TrackedRun<'database_limits'>>;
  async get(kind: TrackedRunKind, id: string, scope: { serverId?: string } = {}): Promise<TrackedRun> {
    const [row] = await this.dataSource.query(`${SUMMARY} WHERE r.id = $1 AND r.kind = $2 GROUP BY r.id`, [id, kind]);
    if (!row || (scope.serverId !== undefined && row.serverId !== scope.serverId)) throw new NotFoundError(`${NOUNS[kind]} ${id} does not exist.`);
    const failures = await this.dataSource.query(
      `SELECT org_id AS "orgId", error, finished_at AS "finishedAt" FROM tracked_run_items WHERE run_id = $1 AND status = 'failed' ORDER BY finished_at`,
      [id],
    );
    return { ...toSummary(row), failures };
  }

  /** Runs of one kind, newest first, keyset-paginated on (created_at, id); created_at has millisecond precision, like a JS Date. */
  list(kind: 'migration', page: PageQuery): Promise<KeysetPage<TrackedRunSummary<'migration'>>>;
  list(kind: 'drain', page: PageQuery): Promise<KeysetPage<TrackedRunSummary<'drain'>>>;
  async list(kind: TrackedRunKind, page: PageQuery): Promise<KeysetPage<TrackedRunSummary>> {
    const rows = page.after
      ? await this.dataSource.query(
          `${SUMMARY} WHERE r.kind = $2 AND (r.created_at, r.id) < ($3, $4) GROUP BY r.id ORDER BY r.created_at DESC, r.id DESC LIMIT $1`,
          [page.limit + 1, kind, page.after.createdAt, page.after.id],
        )
      : await this.dataSource.query(`${SUMMARY} WHERE r.kind = $2 GROUP BY r.id ORDER BY r.created_at DESC, r.id DESC LIMIT $1`, [page.limit + 1, kind]);
    return keysetPage(rows.map(toSummary), page.limit);
  }
}
