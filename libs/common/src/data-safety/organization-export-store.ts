import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { type Clock, fromNow, systemClock } from '../clock';
import { ConflictError, NotFoundError } from '../errors';

export const EXPORT_STATUSES = ['queued', 'running', 'ready', 'failed', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];

export interface OrganizationExport {
  id: string;
  orgId: string;
  /** `expired` as soon as `expiresAt` has passed, even before the reconciler has deleted the file. */
  status: ExportStatus;
  sizeBytes: number | null;
  /** Hex SHA-256 of the file. */
  sha256: string | null;
  error: string | null;
  requestId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  expiresAt: Date | null;
}

/** `$3` is the clock's now: a ready export past its expiry reads as expired before the sweep marks it. */
const COLUMNS = `
  id, org_id AS "orgId",
  CASE WHEN status = 'ready' AND expires_at <= $3::timestamptz THEN 'expired' ELSE status END AS status,
  size_bytes::float8 AS "sizeBytes", sha256, error, request_id AS "requestId",
  created_at AS "createdAt", finished_at AS "finishedAt", expires_at AS "expiresAt"`;

/** One answer for an export that does not exist and one of another organization. */
export const EXPORT_NOT_FOUND = 'No such export.';

/** 409: the organization has an export `queued` or `running` already (`exportId`); one at a time. */
export class ExportInProgressError extends ConflictError {
  constructor(
    readonly exportId: string,
    extra: Record<string, unknown> = {},
  ) {
    super('This organization has an export queued or running; one export at a time: follow it, or ask again once it is finished.', {
      export_id: exportId,
      ...extra,
    });
  }
}

/** What the ready exports' files use together, and when the first of them expires (its file is then deleted). */
export interface ExportDiskUsage {
  bytes: number;
  /** Null when no export is ready. */
  msUntilNextExpiry: number | null;
}

/**
 * The one owner of `organization_exports`. Every read names the organization as well as the
 * export, so an export id under the wrong organization is never found. Writes converge: the job
 * may run again after a crash (or a retry) and simply records its latest file.
 */
export class OrganizationExportStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Records a `queued` export, unless the organization has one `queued` or `running` already
   * (ExportInProgressError naming it). The partial unique index decides between racing requests;
   * an open export that finishes between the insert and the look-up makes the insert try again.
   */
  async create(orgId: string, requestId: string): Promise<OrganizationExport> {
    for (let attempt = 1; ; attempt += 1) {
      const id = randomUUID();
      // Dated by the clock: whether its job may be lost is decided by it (unfinished).
      const inserted: unknown[] = await this.dataSource.query(
        `INSERT INTO organization_exports (id, org_id, status, request_id, created_at) VALUES ($1, $2, 'queued', $3, $4)
         ON CONFLICT (org_id) WHERE status IN ('queued','running') DO NOTHING RETURNING id`,
        [id, orgId, requestId, this.clock.now()],
      );
      if (inserted.length > 0) return this.get(orgId, id);
      const [open] = await this.dataSource.query(`SELECT id FROM organization_exports WHERE org_id = $1 AND status IN ('queued','running')`, [orgId]);
      if (open) throw new ExportInProgressError(open.id);
      if (attempt >= 3) throw new ConflictError('Exports of this organization were asked for at the same moment again and again; ask again.');
    }
  }

  /** The ready exports' recorded sizes together (expired ones count until the sweep deletes their files). */
  async diskUsage(): Promise<ExportDiskUsage> {
    const [row] = await this.dataSource.query(
      `SELECT coalesce(sum(size_bytes), 0)::float8 AS bytes,
              greatest(0, extract(epoch FROM min(expires_at) - $1::timestamptz) * 1000)::float8 AS "msUntilNextExpiry"
         FROM organization_exports WHERE status = 'ready'`,
      [this.clock.now()],
    );
    return row;
  }

  /** The export `id` of `orgId` (404 when there is none, or it is another organization's). */
  async get(orgId: string, id: string): Promise<OrganizationExport> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_exports WHERE id = $1 AND org_id = $2`, [id, orgId, this.clock.now()]);
    if (!row) throw new NotFoundError(EXPORT_NOT_FOUND);
    return row;
  }

  /** `queued` → `running` (a re-run of a `running` or `ready` export keeps its status until it finishes again). */
  async start(orgId: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_exports SET status = 'running', started_at = coalesce(started_at, now()), error = NULL
        WHERE id = $1 AND org_id = $2 AND status = 'queued'`,
      [id, orgId],
    );
  }

  /** The file is in place: `ready`, with its size and hash; it expires `ttlMs` after it first became ready. */
  async finish(orgId: string, id: string, file: { sizeBytes: number; sha256: string }, ttlMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_exports
          SET status = 'ready', size_bytes = $3, sha256 = $4, error = NULL, finished_at = now(),
              expires_at = coalesce(expires_at, $5::timestamptz)
        WHERE id = $1 AND org_id = $2 AND status IN ('queued','running','ready')`,
      [id, orgId, file.sizeBytes, file.sha256, fromNow(this.clock, ttlMs)],
    );
  }

  async fail(orgId: string, id: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_exports SET status = 'failed', error = $3, finished_at = now() WHERE id = $1 AND org_id = $2 AND status IN ('queued','running')`,
      [id, orgId, error],
    );
  }

  /** Ready exports whose time is up (their files are to be deleted, then `expire`). */
  async due(limit = 500): Promise<{ id: string; orgId: string }[]> {
    return this.dataSource.query(
      `SELECT id, org_id AS "orgId" FROM organization_exports WHERE status = 'ready' AND expires_at <= $2::timestamptz ORDER BY expires_at LIMIT $1`,
      [limit, this.clock.now()],
    );
  }

  /**
   * Exports still `queued` or `running` that were asked for more than `olderThanMs` ago: their
   * job may have been lost (Redis flushed or restarted empty, or the API died before handing it over).
   */
  async unfinished(olderThanMs: number, limit = 500): Promise<{ id: string; orgId: string; requestId: string | null }[]> {
    return this.dataSource.query(
      `SELECT id, org_id AS "orgId", request_id AS "requestId" FROM organization_exports
        WHERE status IN ('queued','running') AND created_at <= $3::timestamptz - make_interval(secs => $1::float8 / 1000)
        ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit, this.clock.now()],
    );
  }

  async expire(orgId: string, id: string): Promise<void> {
    await this.dataSource.query(`UPDATE organization_exports SET status = 'expired' WHERE id = $1 AND org_id = $2 AND status = 'ready'`, [id, orgId]);
  }
}
