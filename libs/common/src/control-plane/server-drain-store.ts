import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { NotFoundError } from '../errors';
import { AuditLogStore } from './audit-log-store';

export type ServerDrainStatus = 'queued' | 'running' | 'completed';
export type ServerDrainItemStatus = 'pending' | 'succeeded' | 'failed' | 'skipped';

export interface ServerDrain {
  id: string;
  serverId: string;
  status: ServerDrainStatus;
  requestId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  totals: Record<ServerDrainItemStatus | 'total', number>;
  failures: { orgId: string; error: string | null; finishedAt: Date | null }[];
}

const SUMMARY = `
  SELECT d.id, d.server_id AS "serverId", d.status, d.request_id AS "requestId",
         d.created_at AS "createdAt", d.started_at AS "startedAt", d.finished_at AS "finishedAt",
         count(i.org_id)::int AS total,
         (count(*) FILTER (WHERE i.status = 'pending'))::int AS pending,
         (count(*) FILTER (WHERE i.status = 'succeeded'))::int AS succeeded,
         (count(*) FILTER (WHERE i.status = 'failed'))::int AS failed,
         (count(*) FILTER (WHERE i.status = 'skipped'))::int AS skipped
    FROM server_drains d LEFT JOIN server_drain_items i ON i.drain_id = d.id`;

/**
 * The one owner of `server_drains` and `server_drain_items`: drains of a database server, each
 * item one organization moved off it. Every write is idempotent (insert-if-absent, first terminal
 * outcome wins), because the drain job may run more than once after a crash.
 */
export class ServerDrainStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Audited (`database_server.drain_started`) in the same transaction. */
  async create(serverId: string, requestId: string): Promise<string> {
    const id = randomUUID();
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`INSERT INTO server_drains (id, server_id, status, request_id) VALUES ($1, $2, 'queued', $3)`, [id, serverId, requestId]);
      await new AuditLogStore(manager).record({
        action: 'database_server.drain_started',
        target: { type: 'database_server', id: serverId },
        details: { drain_id: id },
      });
    });
    return id;
  }

  /**
   * Records the plan (one `pending` item per organization, added only once) and marks the drain
   * running; returns the items still pending, read back, so a re-run after a crash continues.
   */
  async plan(id: string, orgIds: string[]): Promise<string[]> {
    return this.dataSource.transaction(async (manager) => {
      const [drain] = await manager.query(`SELECT status FROM server_drains WHERE id = $1 FOR UPDATE`, [id]);
      if (!drain) throw new NotFoundError(`Drain ${id} does not exist.`);
      // Planned once: a re-run must not add organizations that arrived on the server later.
      if (drain.status === 'queued') {
        await manager.query(
          `INSERT INTO server_drain_items (drain_id, org_id, status) SELECT $1, unnest($2::uuid[]), 'pending' ON CONFLICT (drain_id, org_id) DO NOTHING`,
          [id, orgIds],
        );
        await manager.query(`UPDATE server_drains SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1`, [id]);
      }
      const rows: { orgId: string }[] = await manager.query(
        `SELECT i.org_id AS "orgId" FROM server_drain_items i WHERE i.drain_id = $1 AND i.status = 'pending' ORDER BY i.org_id`,
        [id],
      );
      return rows.map((r) => r.orgId);
    });
  }

  async item(id: string, orgId: string): Promise<{ status: ServerDrainItemStatus; targetServerId: string | null } | undefined> {
    const [row] = await this.dataSource.query(
      `SELECT status, target_server_id AS "targetServerId" FROM server_drain_items WHERE drain_id = $1 AND org_id = $2`,
      [id, orgId],
    );
    return row;
  }

  /** Where an item's organization is being moved (set before the move starts, for the report). */
  async setTarget(id: string, orgId: string, targetServerId: string): Promise<void> {
    await this.dataSource.query(`UPDATE server_drain_items SET target_server_id = $3 WHERE drain_id = $1 AND org_id = $2 AND status = 'pending'`, [
      id,
      orgId,
      targetServerId,
    ]);
  }

  /** The first terminal outcome wins: a re-run cannot overwrite a recorded result. */
  async finishItem(id: string, orgId: string, status: Exclude<ServerDrainItemStatus, 'pending'>, error: string | null = null): Promise<void> {
    await this.dataSource.query(
      `UPDATE server_drain_items SET status = $3, error = $4, finished_at = now() WHERE drain_id = $1 AND org_id = $2 AND status = 'pending'`,
      [id, orgId, status, error],
    );
  }

  async complete(id: string): Promise<void> {
    await this.dataSource.query(`UPDATE server_drains SET status = 'completed', finished_at = now() WHERE id = $1 AND status <> 'completed'`, [id]);
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM server_drains WHERE id = $1`, [id]);
  }

  /** The drain of `serverId` with this id (404 when it is another server's, or none). */
  async get(id: string, serverId?: string): Promise<ServerDrain> {
    const [row] = await this.dataSource.query(`${SUMMARY} WHERE d.id = $1 GROUP BY d.id`, [id]);
    if (!row || (serverId !== undefined && row.serverId !== serverId)) throw new NotFoundError(`Drain ${id} does not exist.`);
    const failures = await this.dataSource.query(
      `SELECT org_id AS "orgId", error, finished_at AS "finishedAt" FROM server_drain_items WHERE drain_id = $1 AND status = 'failed' ORDER BY finished_at`,
      [id],
    );
    const { total, pending, succeeded, failed, skipped, ...drain } = row;
    return { ...drain, totals: { total, pending, succeeded, failed, skipped }, failures };
  }
}
