import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { retryOnTransactionConflict } from '../database/database-errors';
import { returnedRows } from '../database/returned-rows';
import { ConflictError, NotFoundError } from '../errors';
import { type KeysetPage, keysetPage, type PageQuery } from '../keyset-page';
import type { AccountAuthState } from '../sign-in/token-version';
import { TenantUser, type UserRole } from './tenant-user.entity';

export interface NewUser {
  email: string;
  passwordHash: string;
  role: UserRole;
  isActive: boolean;
}

export interface UserChanges {
  role?: UserRole;
  isActive?: boolean;
  passwordHash?: string;
}

export type UserWithHash = TenantUser & { passwordHash: string };

const LAST_ADMIN = 'An organization must keep at least one active admin.';

/**
 * The first admin, inserted unless a user with that email exists (a re-run changes nothing). A
 * statement rather than only a method: provisioning runs it on a plain connection when the
 * database is a fresh clone of the current template and TypeORM has nothing to do.
 */
export function seedAdminStatement(email: string, passwordHash: string): [string, unknown[]] {
  return [
    `INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, 'admin')
     ON CONFLICT ((lower(email))) DO NOTHING`,
    [randomUUID(), email, passwordHash],
  ];
}

/**
 * The one owner of `users`, in ONE organization's own database: the API's user management and
 * logins, and the worker's first admin. Built per call on the DataSource the caller was handed
 * (the tenant connection manager, a provisioning connection); it never chooses the database.
 */
export class TenantUserStore {
  constructor(private readonly db: DataSource) {}

  /** The unique index on lower(email) decides duplicates, races included. */
  async insert(user: NewUser): Promise<TenantUser> {
    const id = randomUUID();
    const rows: { id: string }[] = await this.db.query(
      `INSERT INTO users (id, email, password_hash, role, is_active) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ((lower(email))) DO NOTHING RETURNING id`,
      [id, user.email, user.passwordHash, user.role, user.isActive],
    );
    if (rows.length === 0) throw new ConflictError(`A user with email ${user.email} already exists in this organization.`);
    return this.db.getRepository(TenantUser).findOneByOrFail({ id });
  }

  /** Every user, active or not: what the users quota counts. */
  async count(): Promise<number> {
    const [row]: { count: number }[] = await this.db.query(`SELECT count(*)::int AS count FROM users`);
    return row.count;
  }

  /** The organization's first admin, from the hash the API kept; nothing if that email exists already (a re-run). */
  async seedAdmin(email: string, passwordHash: string): Promise<void> {
    await this.db.query(...seedAdminStatement(email, passwordHash));
  }

  /**
   * Oldest first, keyset-paginated on (created_at, id). created_at is truncated to milliseconds
   * on both sides because a position carries a JS Date, which has no microseconds.
   */
  async list(page: PageQuery): Promise<KeysetPage<TenantUser>> {
    const createdMs = "date_trunc('milliseconds', u.created_at)";
    const query = this.db
      .getRepository(TenantUser)
      .createQueryBuilder('u')
      .orderBy(createdMs, 'ASC')
      .addOrderBy('u.id', 'ASC')
      .take(page.limit + 1);
    if (page.after) query.where(`(${createdMs}, u.id) > (:createdAt, :id)`, page.after);
    return keysetPage(await query.getMany(), page.limit);
  }

  async get(id: string): Promise<TenantUser> {
    const user = await this.db.getRepository(TenantUser).findOneBy({ id });
    if (!user) throw new NotFoundError(`User ${id} does not exist in this organization.`);
    return user;
  }

  async findForLogin(email: string): Promise<UserWithHash | null> {
    return (await this.db
      .getRepository(TenantUser)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('lower(u.email) = lower(:email)', { email })
      .getOne()) as UserWithHash | null;
  }

  /** Stamps a successful login (without touching updated_at, which tracks changes to the user). */
  async recordLogin(id: string): Promise<Date> {
    const [row] = returnedRows<{ last_login_at: Date }>(
      await this.db.query('UPDATE users SET last_login_at = now() WHERE id = $1 RETURNING last_login_at', [id]),
    );
    return row.last_login_at;
  }

  /** What a token is checked against on every request: is the user still active, same token version? */
  async authState(id: string): Promise<AccountAuthState | null> {
    const rows: { is_active: boolean; token_version: number }[] = await this.db.query('SELECT is_active, token_version FROM users WHERE id = $1', [id]);
    return rows.length === 0 ? null : { isActive: rows[0].is_active, tokenVersion: rows[0].token_version };
  }

  /**
   * Applies the changes. A new password, a role change or a deactivation bumps token_version,
   * which revokes every token issued before (tokens carry the role and the version).
   */
  async update(id: string, changes: UserChanges): Promise<TenantUser> {
    const mayDemote = changes.role === 'member' || changes.isActive === false;
    return retryOnTransactionConflict(() =>
      this.db.transaction(async (manager) => {
        const activeAdmins = mayDemote ? await this.lockActiveAdmins(manager) : [];
        const current = await this.lockUser(manager, id);
        const losesAdmin = current.role === 'admin' && current.is_active && mayDemote;
        if (losesAdmin && activeAdmins.length <= 1) throw new ConflictError(LAST_ADMIN);
        const revokes =
          changes.passwordHash !== undefined ||
          (changes.role !== undefined && changes.role !== current.role) ||
          (changes.isActive === false && current.is_active);
        await manager.query(
          `UPDATE users SET role = COALESCE($2, role), is_active = COALESCE($3, is_active), password_hash = COALESCE($4, password_hash),
                  token_version = token_version + $5, updated_at = now()
            WHERE id = $1`,
          [id, changes.role ?? null, changes.isActive ?? null, changes.passwordHash ?? null, revokes ? 1 : 0],
        );
        return manager.getRepository(TenantUser).findOneByOrFail({ id });
      }),
    );
  }

  async delete(id: string): Promise<void> {
    await retryOnTransactionConflict(() =>
      this.db.transaction(async (manager) => {
        const activeAdmins = await this.lockActiveAdmins(manager);
        const current = await this.lockUser(manager, id);
        if (current.role === 'admin' && current.is_active && activeAdmins.length <= 1) throw new ConflictError(LAST_ADMIN);
        await manager.query('DELETE FROM users WHERE id = $1', [id]);
      }),
    );
  }

  private async lockUser(manager: EntityManager, id: string): Promise<{ role: UserRole; is_active: boolean }> {
    const rows = await manager.query('SELECT role, is_active FROM users WHERE id = $1 FOR UPDATE', [id]);
    if (rows.length === 0) throw new NotFoundError(`User ${id} does not exist in this organization.`);
    return rows[0];
  }

  /**
   * Locks every active admin row, always in id order and before the target user, so two
   * concurrent demotions queue behind each other instead of each holding the row the other
   * wants (a deadlock); the second then sees the first one's result.
   */
  private lockActiveAdmins(manager: EntityManager): Promise<{ id: string }[]> {
    return manager.query("SELECT id FROM users WHERE role = 'admin' AND is_active ORDER BY id FOR UPDATE");
  }
}
