import type { DataSource } from 'typeorm';
import { NotFoundError } from '../errors';

/** `written` once the whole file is on disk, `verified` once `pg_restore --list` read it and its SHA-256 matched. */
export const ARCHIVE_STATUSES = ['written', 'verified'] as const;

export interface OrganizationArchive {
  id: string;
  /** The organization it was made of; null for a file brought in from elsewhere (`org:restore` of an unknown archive). */
  orgId: string | null;
  databaseName: string;
  /** The file's name inside ARCHIVE_DIR (made of our own ids and a timestamp). */
  fileName: string;
  status: (typeof ARCHIVE_STATUSES)[number];
  sizeBytes: number;
  /** Hex SHA-256 of the file. */
  sha256: string;
  requestId: string | null;
  createdAt: Date;
  verifiedAt: Date | null;
}

export type NewArchive = Pick<OrganizationArchive, 'id' | 'orgId' | 'databaseName' | 'fileName' | 'sizeBytes' | 'sha256' | 'requestId'>;

const COLUMNS = `id, org_id AS "orgId", database_name AS "databaseName", file_name AS "fileName", status,
  size_bytes::float8 AS "sizeBytes", sha256, request_id AS "requestId", created_at AS "createdAt", verified_at AS "verifiedAt"`;

/**
 * The one owner of `organization_archives`: the `pg_dump -Fc` files a purge writes before it drops
 * a database (and the ones `org:restore` brings in). A database is dropped only when its
 * organization has a `verified` archive made after it was deleted; rows are never deleted here
 * (an archive is kept until an operator removes it).
 */
export class OrganizationArchiveStore {
  constructor(private readonly dataSource: DataSource) {}

  async get(id: string): Promise<OrganizationArchive> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_archives WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`Archive ${id} does not exist.`);
    return row;
  }

  /** Records a file that is completely written (renamed into place); not yet verified. */
  async record(archive: NewArchive): Promise<OrganizationArchive> {
    await this.dataSource.query(
      `INSERT INTO organization_archives (id, org_id, database_name, file_name, status, size_bytes, sha256, request_id)
       VALUES ($1, $2, $3, $4, 'written', $5, $6, $7)`,
      [archive.id, archive.orgId, archive.databaseName, archive.fileName, archive.sizeBytes, archive.sha256, archive.requestId],
    );
    return this.get(archive.id);
  }

  async markVerified(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE organization_archives SET status = 'verified', verified_at = coalesce(verified_at, now()) WHERE id = $1`, [id]);
  }

  /** The newest verified archive of `orgId` made at or after `since` (its deletion): what allows its database to be dropped. */
  async latestVerified(orgId: string, since: Date): Promise<OrganizationArchive | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM organization_archives WHERE org_id = $1 AND status = 'verified' AND created_at >= $2 ORDER BY created_at DESC LIMIT 1`,
      [orgId, since],
    );
    return row;
  }

  /** Every archive recorded for `orgId`, newest first (an organization has a handful: one per purge run that wrote one). */
  listForOrganization(orgId: string): Promise<OrganizationArchive[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM organization_archives WHERE org_id = $1 ORDER BY created_at DESC, id DESC`, [orgId]);
  }

  /** A recorded archive with this content (SHA-256), if any: how `org:restore` recognises a file it is given. */
  async findBySha256(sha256: string): Promise<OrganizationArchive | undefined> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM organization_archives WHERE sha256 = $1 ORDER BY created_at DESC LIMIT 1`, [sha256]);
    return row;
  }
}
