import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { type Clock, fromNow, systemClock } from '../clock';
import { ConflictError, NotFoundError } from '../errors';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';
import type { BackupCandidate } from './backup-schedule';

/** What a dump is for: an export someone downloads, the archive a purge leaves, a backup to go back to. */
export const DUMP_KINDS = ['export', 'archive', 'backup'] as const;
export type DumpKind = (typeof DUMP_KINDS)[number];

/** Why a backup was taken: by the schedule, asked for, or of the data a restore is about to replace. */
export const BACKUP_KINDS = ['scheduled', 'manual', 'pre_restore'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export const EXPORT_STATUSES = ['queued', 'running', 'ready', 'failed', 'expired'] as const;
export type ExportStatus = (typeof EXPORT_STATUSES)[number];
/** `written` once the whole file is on disk, `verified` once `pg_restore --list` read it and its SHA-256 matched. */
export const ARCHIVE_STATUSES = ['written', 'verified'] as const;
export const BACKUP_STATUSES = ['queued', 'running', 'verified', 'failed', 'expired'] as const;
export type BackupStatus = (typeof BACKUP_STATUSES)[number];

/** Rows of every table of the dumped database (`schema.table` → rows), counted in the dump's own snapshot. */
export type DumpManifest = Record<string, number>;

/** A file as the dump step wrote it. */
export interface DumpFileRecord {
  fileName: string;
  sizeBytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  manifest: DumpManifest;
}

export interface OrganizationDump {
  id: string;
  /** Null only for an archive brought in from elsewhere (`org:restore` of an unknown file). */
  orgId: string | null;
  kind: DumpKind;
  backupKind: BackupKind | null;
  /** A ready export or verified backup past `expiresAt` reads `expired` before the sweep deletes its file. */
  status: string;
  databaseName: string | null;
  /** The file's name inside its kind's directory (made of our own ids, and a timestamp for archives). */
  fileName: string | null;
  sizeBytes: number | null;
  sha256: string | null;
  manifest: DumpManifest | null;
  error: string | null;
  requestId: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  verifiedAt: Date | null;
  expiresAt: Date | null;
  restoreTestedAt: Date | null;
}

export type OrganizationExport = OrganizationDump & { orgId: string; status: ExportStatus };
export type OrganizationArchive = OrganizationDump & { fileName: string; sizeBytes: number; sha256: string; status: (typeof ARCHIVE_STATUSES)[number] };
export type OrganizationBackup = OrganizationDump & { orgId: string; backupKind: BackupKind; status: BackupStatus };

/** An archive as a purge (or `org:restore`) records it: completely written, not yet verified. */
export type NewArchive = Pick<OrganizationArchive, 'id' | 'orgId' | 'requestId' | 'fileName' | 'sizeBytes' | 'sha256' | 'manifest'> & { databaseName: string };

/** `$1` is always the clock's now: expiry is decided by it. */
const COLUMNS = `
  id, org_id AS "orgId", kind, backup_kind AS "backupKind",
  CASE WHEN status IN ('ready','verified') AND expires_at <= $1::timestamptz THEN 'expired' ELSE status END AS status,
  database_name AS "databaseName", file_name AS "fileName", size_bytes::float8 AS "sizeBytes", sha256, manifest, error,
  request_id AS "requestId", created_at AS "createdAt", finished_at AS "finishedAt", verified_at AS "verifiedAt",
  expires_at AS "expiresAt", restore_tested_at AS "restoreTestedAt"`;

/** One answer for a dump that does not exist and one of another organization. */
export const NOT_FOUND: Record<DumpKind, string> = { export: 'No such export.', archive: 'No such archive.', backup: 'No such backup.' };
export const EXPORT_NOT_FOUND = NOT_FOUND.export;

/** 409: the organization has a dump of this kind `queued` or `running` already (`id`); one at a time. */
export class DumpInProgressError extends ConflictError {
  constructor(
    readonly kind: 'export' | 'backup',
    readonly dumpId: string,
    extra: Record<string, unknown> = {},
  ) {
    super(
      `This organization has ${kind === 'export' ? 'an export' : 'a backup'} queued or running; one ${kind} at a time: follow it, or ask again once it is finished.`,
      {
        [`${kind}_id`]: dumpId,
        ...extra,
      },
    );
  }
}

/** What the ready exports' files use together, and when the first of them expires (its file is then deleted). */
export interface ExportDiskUsage {
  bytes: number;
  /** Null when no export is ready. */
  msUntilNextExpiry: number | null;
}

/**
 * The one owner of `organization_dumps`: exports, purge archives and backups, each a `pg_dump -Fc`
 * file with its size, SHA-256 and manifest. Reads of exports and backups name the organization as
 * well as the dump, so an id under the wrong organization is never found. Writes converge: a job
 * may run again after a crash (or a retry) and simply records its latest file.
 */
export class OrganizationDumpStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The dump `id` of `orgId` of this kind (404 when there is none, or it is another organization's). */
  async get(kind: 'export', orgId: string, id: string): Promise<OrganizationExport>;
  async get(kind: 'backup', orgId: string, id: string): Promise<OrganizationBackup>;
  async get(kind: DumpKind, orgId: string, id: string): Promise<OrganizationDump>;
  async get(kind: DumpKind, orgId: string, id: string): Promise<OrganizationDump> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_dumps WHERE id = $2 AND org_id = $3 AND kind = $4`, [
      this.clock.now(),
      id,
      orgId,
      kind,
    ]);
    if (!row) throw new NotFoundError(NOT_FOUND[kind]);
    return row;
  }

  /** An archive by its id alone (a file brought in from elsewhere has no organization). */
  async getArchive(id: string): Promise<OrganizationArchive> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_dumps WHERE id = $2 AND kind = 'archive'`, [this.clock.now(), id]);
    if (!row) throw new NotFoundError(`Archive ${id} does not exist.`);
    return row;
  }

  /** What a new organization is restored from: an archive or a backup, by its id alone (404 for any other dump). */
  async getRestoreSource(id: string): Promise<OrganizationArchive> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_dumps WHERE id = $2 AND kind IN ('archive','backup')`, [
      this.clock.now(),
      id,
    ]);
    if (!row) throw new NotFoundError(`Dump ${id} is neither an archive nor a backup.`);
    return row;
  }

  /**
   * Records a `queued` export or backup, unless the organization has one of that kind `queued` or
   * `running` already (DumpInProgressError naming it). The partial unique index decides between
   * racing requests; an open one that finishes between the insert and the look-up makes the
   * insert try again.
   */
  async create(kind: 'export', orgId: string, requestId: string): Promise<OrganizationExport>;
  async create(kind: 'backup', orgId: string, requestId: string, backupKind: BackupKind): Promise<OrganizationBackup>;
  async create(kind: 'export' | 'backup', orgId: string, requestId: string, backupKind: BackupKind | null = null): Promise<OrganizationDump> {
    for (let attempt = 1; ; attempt += 1) {
      const id = randomUUID();
      // Dated by the clock: whether its job may be lost, and backup schedules and retention, are decided by it.
      const inserted: unknown[] = await this.dataSource.query(
        `INSERT INTO organization_dumps (id, org_id, kind, backup_kind, status, request_id, created_at) VALUES ($1, $2, $3, $4, 'queued', $5, $6)
         ON CONFLICT (org_id, kind) WHERE status IN ('queued','running') DO NOTHING RETURNING id`,
        [id, orgId, kind, backupKind, requestId, this.clock.now()],
      );
      if (inserted.length > 0) return this.get(kind, orgId, id);
      const [open] = await this.dataSource.query(`SELECT id FROM organization_dumps WHERE org_id = $1 AND kind = $2 AND status IN ('queued','running')`, [
        orgId,
        kind,
      ]);
      if (open) throw new DumpInProgressError(kind, open.id);
      if (attempt >= 3) throw new ConflictError('Dumps of this organization were asked for at the same moment again and again; ask again.');
    }
  }

  /** Records a file that is completely written (renamed into place) as an archive; not yet verified. */
  async recordArchive(archive: NewArchive): Promise<OrganizationArchive> {
    await this.dataSource.query(
      `INSERT INTO organization_dumps (id, org_id, kind, status, database_name, file_name, size_bytes, sha256, manifest, request_id)
       VALUES ($1, $2, 'archive', 'written', $3, $4, $5, $6, $7, $8)`,
      [archive.id, archive.orgId, archive.databaseName, archive.fileName, archive.sizeBytes, archive.sha256, archive.manifest, archive.requestId],
    );
    return this.getArchive(archive.id);
  }

  /** The ready exports' recorded sizes together (expired ones count until the sweep deletes their files). */
  async exportDiskUsage(): Promise<ExportDiskUsage> {
    const [row] = await this.dataSource.query(
      `SELECT coalesce(sum(size_bytes), 0)::float8 AS bytes,
              greatest(0, extract(epoch FROM min(expires_at) - $1::timestamptz) * 1000)::float8 AS "msUntilNextExpiry"
         FROM organization_dumps WHERE kind = 'export' AND status = 'ready'`,
      [this.clock.now()],
    );
    return row;
  }

  /** `queued` → `running` (a re-run of a `running` or finished dump keeps its status until it finishes again). */
  async start(kind: DumpKind, orgId: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_dumps SET status = 'running', started_at = coalesce(started_at, now()), error = NULL
        WHERE id = $1 AND org_id = $2 AND kind = $3 AND status = 'queued'`,
      [id, orgId, kind],
    );
  }

  /** The file of an export or backup is in place (not yet verified): its name, size, hash and manifest. */
  async recordFile(kind: DumpKind, orgId: string, id: string, file: DumpFileRecord): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_dumps SET file_name = $4, size_bytes = $5, sha256 = $6, manifest = $7
        WHERE id = $1 AND org_id = $2 AND kind = $3 AND status IN ('queued','running','ready','verified')`,
      [id, orgId, kind, file.fileName, file.sizeBytes, file.sha256, file.manifest],
    );
  }

  /**
   * The file read back as written: an archive or backup is `verified`, an export `ready`. One that
   * expires does so `ttlMs` after it was first verified (null: it does not expire by itself).
   */
  async markVerified(id: string, ttlMs: number | null = null): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_dumps
          SET status = CASE kind WHEN 'export' THEN 'ready' ELSE 'verified' END, error = NULL,
              verified_at = coalesce(verified_at, $2::timestamptz), finished_at = $2::timestamptz,
              expires_at = coalesce(expires_at, $3::timestamptz)
        WHERE id = $1 AND status IN ('queued','running','written','ready','verified')`,
      [id, this.clock.now(), ttlMs === null ? null : fromNow(this.clock, ttlMs)],
    );
  }

  async fail(kind: DumpKind, orgId: string, id: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_dumps SET status = 'failed', error = $4, finished_at = now() WHERE id = $1 AND org_id = $2 AND kind = $3 AND status IN ('queued','running')`,
      [id, orgId, kind, error],
    );
  }

  /** Finished dumps of this kind whose time is up (their files are to be deleted, then `expire`). */
  async due(kind: DumpKind, limit = 500): Promise<{ id: string; orgId: string; fileName: string | null }[]> {
    return this.dataSource.query(
      `SELECT id, org_id AS "orgId", file_name AS "fileName" FROM organization_dumps
        WHERE kind = $3 AND status IN ('ready','verified') AND expires_at <= $2::timestamptz ORDER BY expires_at LIMIT $1`,
      [limit, this.clock.now(), kind],
    );
  }

  async expire(kind: DumpKind, orgId: string, id: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE organization_dumps SET status = 'expired' WHERE id = $1 AND org_id = $2 AND kind = $3 AND status IN ('ready','verified')`,
      [id, orgId, kind],
    );
  }

  /**
   * Dumps of this kind still `queued` or `running` that were asked for more than `olderThanMs`
   * ago: their job may have been lost (Redis flushed or restarted empty, or the API died before
   * handing it over).
   */
  async unfinished(kind: DumpKind, olderThanMs: number, limit = 500): Promise<{ id: string; orgId: string; requestId: string | null }[]> {
    return this.dataSource.query(
      `SELECT id, org_id AS "orgId", request_id AS "requestId" FROM organization_dumps
        WHERE kind = $4 AND status IN ('queued','running') AND created_at <= $3::timestamptz - make_interval(secs => $1::float8 / 1000)
        ORDER BY created_at LIMIT $2`,
      [olderThanMs, limit, this.clock.now(), kind],
    );
  }

  /** Dumps of one kind of `orgId`, newest first, keyset-paginated on (created_at, id). */
  async list(kind: DumpKind, orgId: string, page: PageQuery): Promise<KeysetPage<OrganizationDump>> {
    const rows = page.after
      ? await this.dataSource.query(
          `SELECT ${COLUMNS} FROM organization_dumps WHERE org_id = $3 AND kind = $4 AND (created_at, id) < ($5, $6) ORDER BY created_at DESC, id DESC LIMIT $2`,
          [this.clock.now(), page.limit + 1, orgId, kind, page.after.createdAt, page.after.id],
        )
      : await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_dumps WHERE org_id = $3 AND kind = $4 ORDER BY created_at DESC, id DESC LIMIT $2`, [
          this.clock.now(),
          page.limit + 1,
          orgId,
          kind,
        ]);
    return keysetPage(rows, page.limit);
  }

  /** The newest verified archive of `orgId` made at or after `since` (its deletion): what allows its database to be dropped. */
  async latestVerifiedArchive(orgId: string, since: Date): Promise<OrganizationArchive | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM organization_dumps WHERE org_id = $2 AND kind = 'archive' AND status = 'verified' AND created_at >= $3 ORDER BY created_at DESC LIMIT 1`,
      [this.clock.now(), orgId, since],
    );
    return row;
  }

  /** Every archive recorded for `orgId`, newest first (an organization has a handful: one per purge run that wrote one). */
  listArchives(orgId: string): Promise<OrganizationArchive[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM organization_dumps WHERE org_id = $2 AND kind = 'archive' ORDER BY created_at DESC, id DESC`, [
      this.clock.now(),
      orgId,
    ]);
  }

  /** A recorded archive with this content (SHA-256), if any: how `org:restore` recognises a file it is given. */
  async findArchiveBySha256(sha256: string): Promise<OrganizationArchive | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM organization_dumps WHERE sha256 = $2 AND kind = 'archive' ORDER BY created_at DESC LIMIT 1`,
      [this.clock.now(), sha256],
    );
    return row;
  }

  /**
   * What the backup schedule decides on, for every active organization: its server, when its
   * latest scheduled backup (not a failed one) was asked for — or, before its first, when the
   * organization was created, so its first backup comes at its first slot like every other (a
   * deploy or a burst of new organizations is spread over the interval, not backed up at once) —
   * and whether one of its backups is queued or running.
   */
  backupCandidates(): Promise<BackupCandidate[]> {
    return this.dataSource.query(
      `SELECT o.id AS "orgId", o.database_server_id AS "serverId",
              COALESCE((SELECT max(d.created_at) FROM organization_dumps d
                WHERE d.org_id = o.id AND d.kind = 'backup' AND d.backup_kind = 'scheduled' AND d.status <> 'failed'), o.created_at) AS "lastBackupAt",
              EXISTS (SELECT 1 FROM organization_dumps d WHERE d.org_id = o.id AND d.kind = 'backup' AND d.status IN ('queued','running')) AS open
         FROM organizations o WHERE o.status = 'active'`,
    );
  }

  /** Verified scheduled backups that retention has not yet given an expiry. */
  retainedBackups(): Promise<{ id: string; orgId: string; createdAt: Date }[]> {
    return this.dataSource.query(
      `SELECT id, org_id AS "orgId", created_at AS "createdAt" FROM organization_dumps
        WHERE kind = 'backup' AND backup_kind = 'scheduled' AND status = 'verified' AND expires_at IS NULL`,
    );
  }

  /** These backups expire now (their files are deleted by the next `due` pass). */
  async expireNow(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(`UPDATE organization_dumps SET expires_at = $2 WHERE id = ANY($1::uuid[]) AND kind = 'backup'`, [ids, this.clock.now()]);
  }

  /**
   * What the restore drills prove next: of each active organization, its newest verified backup,
   * if no drill has restored it yet nor found it damaged (`error`); oldest first, at most `limit`.
   */
  drillCandidates(limit: number): Promise<OrganizationBackup[]> {
    return this.dataSource.query(
      `SELECT * FROM (
         SELECT DISTINCT ON (org_id) ${COLUMNS} FROM organization_dumps
          WHERE kind = 'backup' AND status = 'verified' AND (expires_at IS NULL OR expires_at > $1::timestamptz)
            AND org_id IN (SELECT id FROM organizations WHERE status = 'active')
          ORDER BY org_id, created_at DESC) newest
        WHERE "restoreTestedAt" IS NULL AND error IS NULL ORDER BY "createdAt" LIMIT $2`,
      [this.clock.now(), limit],
    );
  }

  /** A drill restored the backup and found its manifest's row counts. */
  async recordRestoreTest(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE organization_dumps SET restore_tested_at = $2, error = NULL WHERE id = $1 AND kind = 'backup'`, [id, this.clock.now()]);
  }

  /** A drill found the backup damaged or different from its manifest: why, so it is reported once and not drilled again. */
  async recordRestoreTestFailure(id: string, reason: string): Promise<void> {
    await this.dataSource.query(`UPDATE organization_dumps SET error = $2 WHERE id = $1 AND kind = 'backup'`, [id, reason]);
  }
}
