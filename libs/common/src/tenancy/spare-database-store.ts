import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { returnedRows } from '../database/returned-rows';

export type SpareStatus = 'preparing' | 'ready' | 'claimed';

export interface Spare {
  id: string;
  serverId: string;
  /** The tenant migration the spare was cloned at: only spares at the current one are claimed. */
  templateVersion: string;
  status: SpareStatus;
  claimedBy: string | null;
  createdAt: Date;
}

const columnsOf = (t: string) =>
  `${t}.id, ${t}.server_id AS "serverId", ${t}.template_version AS "templateVersion", ${t}.status, ${t}.claimed_by AS "claimedBy", ${t}.created_at AS "createdAt"`;
const COLUMNS = columnsOf('spare_databases');

/**
 * The one owner of `spare_databases`: which spare databases each server holds and who claimed one.
 * A claim is durable before anything is renamed, so a worker that dies mid-claim leaves a row that
 * the organization's next attempt takes up again (`claim` returns it first).
 */
export class SpareDatabaseStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Records a spare about to be cloned on `serverId` (its name comes from the returned id). */
  async begin(serverId: string, templateVersion: string): Promise<Spare> {
    const [row]: Spare[] = await this.dataSource.query(
      `INSERT INTO spare_databases (id, server_id, template_version, status) VALUES ($1, $2, $3, 'preparing') RETURNING ${COLUMNS}`,
      [randomUUID(), serverId, templateVersion],
    );
    return row;
  }

  async markReady(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE spare_databases SET status = 'ready' WHERE id = $1 AND status = 'preparing'`, [id]);
  }

  /**
   * The spare `orgId` holds: the one it claimed before (a resumed claim), else the oldest ready one
   * on `serverId` at `templateVersion`, claimed now. Concurrent claims never take the same one
   * (SKIP LOCKED: each takes the next). Undefined when none is left.
   */
  async claim(orgId: string, serverId: string, templateVersion: string): Promise<Spare | undefined> {
    const [held] = await this.dataSource.query(`SELECT ${COLUMNS} FROM spare_databases WHERE claimed_by = $1`, [orgId]);
    if (held) return held;
    const [claimed] = returnedRows<Spare>(
      await this.dataSource.query(
        `UPDATE spare_databases SET status = 'claimed', claimed_by = $1
        WHERE id = (SELECT id FROM spare_databases WHERE server_id = $2 AND status = 'ready' AND template_version = $3
                     ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}`,
        [orgId, serverId, templateVersion],
      ),
    );
    return claimed;
  }

  /** Gives a claimed spare back (it could not be used for this organization). */
  async release(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE spare_databases SET status = 'ready', claimed_by = NULL WHERE id = $1 AND status = 'claimed'`, [id]);
  }

  /**
   * Takes a spare out of use before it is dropped: back to `preparing` (what a crash mid-retirement
   * leaves is retired on the next pass), if it is still `from` (a claim may have taken it since it
   * was read). False when it changed meanwhile: then it is not dropped.
   */
  async withdraw(id: string, from: SpareStatus): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(`UPDATE spare_databases SET status = 'preparing', claimed_by = NULL WHERE id = $1 AND status = $2 RETURNING id`, [id, from]),
    );
    return rows.length === 1;
  }

  /** The spare is no more (renamed into an organization's database, or dropped). */
  async forget(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM spare_databases WHERE id = $1`, [id]);
  }

  /** A claim whose rename happened (the organization's database exists): nothing is left to claim. */
  async forgetClaimOf(orgId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM spare_databases WHERE claimed_by = $1`, [orgId]);
  }

  /** Every spare on `serverId`, oldest first, with the status of the organization a claimed one is for. */
  async onServer(serverId: string): Promise<(Spare & { claimantStatus: string | null })[]> {
    return this.dataSource.query(
      `SELECT ${columnsOf('s')}, o.status AS "claimantStatus"
         FROM spare_databases s LEFT JOIN organizations o ON o.id = s.claimed_by
        WHERE s.server_id = $1 ORDER BY s.created_at`,
      [serverId],
    );
  }

  /** The servers that hold spares, whatever their status (a drained or disabled one gives them up). */
  async serverIds(): Promise<string[]> {
    const rows: { serverId: string }[] = await this.dataSource.query(`SELECT DISTINCT server_id AS "serverId" FROM spare_databases`);
    return rows.map((r) => r.serverId);
  }
}
