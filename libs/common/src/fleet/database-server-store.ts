import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditLogStore } from '../audit/audit-log-store';
import { sqlStateOf } from '../database/database-errors';
import { returnedRows } from '../database/returned-rows';
import { ConflictError, NotFoundError } from '../errors';
import type { SecretBox } from '../secret-box';

export const DATABASE_SERVER_STATUSES = ['active', 'draining', 'disabled'] as const;
export type DatabaseServerStatus = (typeof DATABASE_SERVER_STATUSES)[number];

/** The server that holds organization databases when nothing else was registered (ORG_DATABASE_URL). */
export const DEFAULT_SERVER_NAME = 'default';

/** One PostgreSQL server of the fleet, its credentials opened (never leave the process: see presenters). */
export interface DatabaseServer {
  id: string;
  name: string;
  /** A role with CREATEDB: the worker creates, copies and drops organization databases with it. */
  adminUrl: string;
  /** A PgBouncer in front of the server (transaction pooling) for the API's tenant connections. */
  poolUrl: string | null;
  /** Organizations (not deleted) the server may hold. */
  capacity: number;
  /** Tenant connections one API process may hold to this server. */
  connectionBudget: number;
  /**
   * Whether each organization on it gets its own login role. False only where the admin role may
   * not CREATE ROLE (managed PostgreSQL) and the operator said so: its organizations use the admin role.
   */
  tenantRoles: boolean;
  status: DatabaseServerStatus;
  createdAt: Date;
  updatedAt: Date;
}

export type NewDatabaseServer = Pick<DatabaseServer, 'name' | 'adminUrl' | 'poolUrl' | 'capacity' | 'connectionBudget'> & {
  status?: DatabaseServerStatus;
  tenantRoles?: boolean;
};
export type DatabaseServerChanges = Partial<Pick<DatabaseServer, 'poolUrl' | 'capacity' | 'connectionBudget' | 'status' | 'adminUrl'>>;

/** A setting's name as the API and the audit log spell it. */
const SETTING_NAMES: Record<keyof DatabaseServerChanges, string> = {
  adminUrl: 'admin_url',
  poolUrl: 'pool_url',
  capacity: 'capacity',
  connectionBudget: 'connection_budget',
  status: 'status',
};

interface ServerRow extends Omit<DatabaseServer, 'adminUrl' | 'poolUrl'> {
  adminUrlSecret: string;
  poolUrlSecret: string | null;
}

const COLUMNS = `id, name, admin_url_secret AS "adminUrlSecret", pool_url_secret AS "poolUrlSecret", capacity,
  connection_budget AS "connectionBudget", tenant_roles AS "tenantRoles", status, created_at AS "createdAt", updated_at AS "updatedAt"`;

/**
 * The one owner of `database_servers`. URLs carry passwords, so they are sealed with the
 * secrets key before they are written and opened only in memory; a value sealed with an older
 * key is sealed again with the current one at start (`resealStale`).
 */
export class DatabaseServerStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * Registers `default` when the fleet is empty, so a one-server install changes nothing. Two
   * processes starting at once both try; the unique name lets exactly one insert win.
   */
  async ensureDefault(server: Omit<NewDatabaseServer, 'name'>): Promise<DatabaseServer> {
    await this.dataSource.query(
      `INSERT INTO database_servers (id, name, admin_url_secret, pool_url_secret, capacity, connection_budget, tenant_roles)
       SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM database_servers)
       ON CONFLICT (name) DO NOTHING`,
      [
        randomUUID(),
        DEFAULT_SERVER_NAME,
        this.secrets.seal(server.adminUrl),
        server.poolUrl && this.secrets.seal(server.poolUrl),
        server.capacity,
        server.connectionBudget,
        server.tenantRoles ?? true,
      ],
    );
    const [first] = await this.list();
    return (await this.findByName(DEFAULT_SERVER_NAME)) ?? first;
  }

  /** A taken name is a 409. Audited (`database_server.created`) in the same transaction. */
  async create(server: NewDatabaseServer): Promise<DatabaseServer> {
    const id = randomUUID();
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.query(
          `INSERT INTO database_servers (id, name, admin_url_secret, pool_url_secret, capacity, connection_budget, status, tenant_roles)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [
            id,
            server.name,
            this.secrets.seal(server.adminUrl),
            server.poolUrl && this.secrets.seal(server.poolUrl),
            server.capacity,
            server.connectionBudget,
            server.status ?? 'active',
            server.tenantRoles ?? true,
          ],
        );
        await new AuditLogStore(manager).record({
          action: 'database_server.created',
          target: { type: 'database_server', id },
          details: { name: server.name, capacity: server.capacity, connection_budget: server.connectionBudget, tenant_roles: server.tenantRoles ?? true },
        });
      });
    } catch (error) {
      if (sqlStateOf(error) === '23505') throw new ConflictError(`A database server named "${server.name}" already exists.`);
      throw error;
    }
    return this.get(id);
  }

  async get(id: string): Promise<DatabaseServer> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM database_servers WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`Database server ${id} does not exist.`);
    return this.opened(row);
  }

  async findByName(name: string): Promise<DatabaseServer | undefined> {
    const [row] = await this.dataSource.query(`SELECT ${COLUMNS} FROM database_servers WHERE name = $1`, [name]);
    return row ? this.opened(row) : undefined;
  }

  /** Every server, by name: a fleet is a handful of rows. */
  async list(): Promise<DatabaseServer[]> {
    const rows: ServerRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM database_servers ORDER BY name`);
    return rows.map((row) => this.opened(row));
  }

  /** Audited (`database_server.updated`: which settings changed, never a URL) in the same transaction. */
  update(id: string, changes: DatabaseServerChanges): Promise<DatabaseServer> {
    return this.write(id, changes, 'database_server.updated');
  }

  /** Seals again, with the current key, every URL sealed with an older one; returns how many rows changed. */
  async resealStale(): Promise<number> {
    const rows: ServerRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM database_servers`);
    let changed = 0;
    for (const row of rows) {
      if (!this.secrets.isStale(row.adminUrlSecret) && !(row.poolUrlSecret && this.secrets.isStale(row.poolUrlSecret))) continue;
      const server = this.opened(row);
      await this.write(server.id, { adminUrl: server.adminUrl, poolUrl: server.poolUrl }, 'database_server.resealed');
      changed += 1;
    }
    return changed;
  }

  private async write(id: string, changes: DatabaseServerChanges, action: 'database_server.updated' | 'database_server.resealed'): Promise<DatabaseServer> {
    const sets: string[] = [];
    const params: unknown[] = [id];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (changes.adminUrl !== undefined) set('admin_url_secret', this.secrets.seal(changes.adminUrl));
    if (changes.poolUrl !== undefined) set('pool_url_secret', changes.poolUrl && this.secrets.seal(changes.poolUrl));
    if (changes.capacity !== undefined) set('capacity', changes.capacity);
    if (changes.connectionBudget !== undefined) set('connection_budget', changes.connectionBudget);
    if (changes.status !== undefined) set('status', changes.status);
    if (sets.length > 0) {
      await this.dataSource.transaction(async (manager) => {
        // One statement: the row locked, changed, and its status before the change returned for the audit entry.
        const [before] = returnedRows<{ status: string }>(
          await manager.query(
            `UPDATE database_servers s SET ${sets.join(', ')}, updated_at = now()
               FROM (SELECT status FROM database_servers WHERE id = $1 FOR UPDATE) old
              WHERE s.id = $1 RETURNING old.status`,
            params,
          ),
        );
        if (!before) throw new NotFoundError(`Database server ${id} does not exist.`);
        // The members named, never their values: a URL carries a password.
        const changed = (Object.keys(SETTING_NAMES) as (keyof DatabaseServerChanges)[])
          .filter((key) => changes[key] !== undefined)
          .map((key) => SETTING_NAMES[key]);
        const status = changes.status !== undefined ? { status_before: before.status, status_after: changes.status } : {};
        await new AuditLogStore(manager).record({ action, target: { type: 'database_server', id }, details: { changed, ...status } });
      });
    }
    return this.get(id);
  }

  private opened(row: ServerRow): DatabaseServer {
    const { adminUrlSecret, poolUrlSecret, ...rest } = row;
    return { ...rest, adminUrl: this.secrets.open(adminUrlSecret), poolUrl: poolUrlSecret ? this.secrets.open(poolUrlSecret) : null };
  }
}
