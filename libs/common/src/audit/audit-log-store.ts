import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { type Clock, systemClock } from '../clock';
import { returnedRows } from '../database/returned-rows';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';
import { type Actor, currentContext } from '../request-context';

/** What can be audited; `webhook.*` for the webhook registrations. */
export type AuditAction =
  | 'auth.login.succeeded'
  | 'auth.login.failed'
  | 'auth.refresh.reused'
  | 'auth.logout'
  | 'user.created'
  | 'user.updated'
  | 'user.deleted'
  | 'platform_admin.created'
  | 'platform_admin.updated'
  | 'platform_admin.deleted'
  | 'organization.created'
  | 'organization.renamed'
  | 'organization.updated'
  | 'organization.deleted'
  | 'organization.restored'
  | 'organization.purged'
  | 'organization.retried'
  | 'organization.moved'
  | 'organization.limits_changed'
  | 'organization.quota_exceeded'
  | 'backup.restore_test_failed'
  | 'database_server.created'
  | 'database_server.updated'
  | 'database_server.resealed'
  | 'database_server.drain_started'
  | `webhook.${string}`;

export interface AuditTarget {
  type: string;
  id: string;
}

/** An entry to write; actor and request id default to those of the request being served. */
export interface NewAuditEntry {
  action: AuditAction;
  orgId?: string | null;
  target?: AuditTarget | null;
  details?: Record<string, unknown>;
  /** Null: anonymous (a failed login). Unset: the request context's authenticated caller. */
  actor?: Actor | null;
  requestId?: string | null;
}

export interface AuditEntry {
  id: string;
  /** When it happened (`at`; named for the keyset pages). */
  createdAt: Date;
  actor: Actor | null;
  orgId: string | null;
  action: string;
  target: AuditTarget | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter extends PageQuery {
  orgId?: string;
  actorId?: string;
  /** An exact action, or a prefix ending in `.*` (`auth.*`). */
  action?: string;
  /** Inclusive. */
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

/** Member names that must never reach the log, however a caller builds its details. */
const SECRET_NAME = /password|token|hash|secret/i;

/**
 * The last line of defence behind every caller: details are data about a change, never a
 * credential, so anything named like one is dropped, at any depth.
 */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([name]) => !SECRET_NAME.test(name))
      .map(([name, member]) => [name, withoutSecrets(member)]),
  );
}

type Queryable = Pick<EntityManager, 'query'>;

/**
 * The one owner of `audit_log`. Given a transaction's EntityManager it writes inside that
 * transaction, so a change in the control database and its entry commit (or not) together;
 * given the DataSource it writes on its own.
 */
export class AuditLogStore {
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock = systemClock,
  ) {}

  async record(entry: NewAuditEntry): Promise<void> {
    const context = currentContext();
    const actor = entry.actor === undefined ? (context?.actor ?? null) : entry.actor;
    await this.db.query(
      `INSERT INTO audit_log (id, actor_kind, actor_id, org_id, action, target_type, target_id, request_id, details, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        randomUUID(),
        actor?.kind ?? null,
        actor?.id ?? null,
        entry.orgId ?? null,
        entry.action,
        entry.target?.type ?? null,
        entry.target?.id ?? null,
        entry.requestId ?? context?.requestId ?? null,
        JSON.stringify(withoutSecrets(entry.details ?? {})),
        // Retention decides by this clock, so entries are dated by it too.
        this.clock.now(),
      ],
    );
  }

  /** Deletes up to `limit` entries older than `days` days, oldest first; returns how many. */
  async deleteOlderThan(days: number, limit = 5000): Promise<number> {
    const deleted = await this.db.query(
      `DELETE FROM audit_log WHERE id IN (
         SELECT id FROM audit_log WHERE at < $3::timestamptz - make_interval(days => $1) ORDER BY at LIMIT $2) RETURNING id`,
      [days, limit, this.clock.now()],
    );
    return returnedRows(deleted).length;
  }

  /** Newest first, keyset-paginated on (at, id). */
  async list(filter: AuditFilter): Promise<KeysetPage<AuditEntry>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: (n: string) => string, value: unknown) => {
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    if (filter.orgId) add((n) => `org_id = ${n}`, filter.orgId);
    if (filter.actorId) add((n) => `actor_id = ${n}`, filter.actorId);
    if (filter.action?.endsWith('.*')) add((n) => `starts_with(action, ${n})`, filter.action.slice(0, -1));
    else if (filter.action) add((n) => `action = ${n}`, filter.action);
    if (filter.from) add((n) => `at >= ${n}`, filter.from);
    if (filter.to) add((n) => `at < ${n}`, filter.to);
    if (filter.after) {
      params.push(filter.after.createdAt, filter.after.id);
      where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(filter.limit + 1);
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT id, at, actor_kind, actor_id, org_id, action, target_type, target_id, request_id, details
         FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return keysetPage(rows.map(asEntry), filter.limit);
  }
}

function asEntry(row: Record<string, unknown>): AuditEntry {
  return {
    id: row.id as string,
    createdAt: row.at as Date,
    actor: row.actor_kind ? { kind: row.actor_kind as Actor['kind'], id: row.actor_id as string } : null,
    orgId: (row.org_id as string | null) ?? null,
    action: row.action as string,
    target: row.target_type ? { type: row.target_type as string, id: row.target_id as string } : null,
    requestId: (row.request_id as string | null) ?? null,
    details: row.details as Record<string, unknown>,
  };
}
