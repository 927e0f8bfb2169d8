import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { AuditLogStore } from '../audit/audit-log-store';
import { returnedRows } from '../database/returned-rows';
import { ConflictError, NotFoundError } from '../errors';
import type { OrganizationEventPublisher } from '../events/organization-events';
import { hashPassword } from './passwords';
import { PlatformAdmin } from './platform-admin.entity';
import type { AccountAuthState } from './token-version';

export type PlatformAdminWithHash = PlatformAdmin & { passwordHash: string };

/**
 * The one owner of `platform_admins`: every read and write of the table goes through here.
 * Emails are stored lower-cased and are unique case-insensitively. A change of what a token
 * check reads (password, activity, existence) is published, so API replicas drop their copy.
 * Every change is audited in its own transaction (by the request's caller; an operator's command
 * has none).
 */
export class PlatformAdminStore {
  constructor(
    private readonly db: DataSource,
    private readonly events?: OrganizationEventPublisher,
  ) {}

  /** The admin with this email and its password hash, active or not (the caller decides). */
  findForLogin(email: string): Promise<PlatformAdminWithHash | null> {
    return this.db
      .getRepository(PlatformAdmin)
      .createQueryBuilder('a')
      .addSelect('a.passwordHash')
      .where('lower(a.email) = lower(:email)', { email: email.trim() })
      .getOne() as Promise<PlatformAdminWithHash | null>;
  }

  async get(id: string): Promise<PlatformAdmin> {
    const admin = await this.db.getRepository(PlatformAdmin).findOneBy({ id });
    if (!admin) throw new NotFoundError('This platform admin no longer exists.');
    return admin;
  }

  async authState(id: string): Promise<AccountAuthState | null> {
    const rows: { is_active: boolean; token_version: number }[] = await this.db.query('SELECT is_active, token_version FROM platform_admins WHERE id = $1', [
      id,
    ]);
    return rows.length === 0 ? null : { isActive: rows[0].is_active, tokenVersion: rows[0].token_version };
  }

  /** Inserts a platform admin; a taken email (any case) is a ConflictError. */
  async create(email: string, password: string, rounds: number): Promise<PlatformAdmin> {
    const passwordHash = await hashPassword(password, rounds);
    const id = randomUUID();
    const address = email.trim().toLowerCase();
    await this.db.transaction(async (manager) => {
      const inserted = await manager.query(
        'INSERT INTO platform_admins (id, email, password_hash) VALUES ($1, $2, $3) ON CONFLICT ((lower(email))) DO NOTHING RETURNING id',
        [id, address, passwordHash],
      );
      if (inserted.length === 0) throw new ConflictError(`A platform admin with email ${address} already exists.`);
      await new AuditLogStore(manager).record({ action: 'platform_admin.created', target: { type: 'platform_admin', id }, details: { email: address } });
    });
    return this.get(id);
  }

  /** Creates the bootstrap admin unless one with that email exists; safe on every start. */
  async ensure(email: string, password: string, rounds: number): Promise<'created' | 'exists'> {
    try {
      await this.create(email, password, rounds);
      return 'created';
    } catch (error) {
      if (error instanceof ConflictError) return 'exists';
      throw error;
    }
  }

  /** A new password revokes every token issued before it. */
  async changePassword(email: string, password: string, rounds: number): Promise<PlatformAdmin> {
    const passwordHash = await hashPassword(password, rounds);
    return this.updateByEmail(email, 'password_hash = $2, token_version = token_version + 1', [passwordHash], { changed: ['password'] });
  }

  /** Deactivation revokes every token; the row stays (for audit) and can be reactivated. */
  deactivate(email: string): Promise<PlatformAdmin> {
    return this.updateByEmail(email, 'is_active = false, token_version = token_version + 1', [], { is_active: false });
  }

  activate(email: string): Promise<PlatformAdmin> {
    return this.updateByEmail(email, 'is_active = true', [], { is_active: true });
  }

  /** Removes the admin; its tokens then find no row and are refused. */
  async remove(email: string): Promise<void> {
    const removed = await this.db.transaction(async (manager) => {
      const rows = returnedRows<{ id: string }>(await manager.query('DELETE FROM platform_admins WHERE lower(email) = lower($1) RETURNING id', [email.trim()]));
      if (rows.length === 0) throw new NotFoundError(`No platform admin has the email ${email.trim().toLowerCase()}.`);
      await new AuditLogStore(manager).record({
        action: 'platform_admin.deleted',
        target: { type: 'platform_admin', id: rows[0].id },
        details: { email: email.trim().toLowerCase() },
      });
      return rows;
    });
    this.events?.publish({ type: 'admin-changed', adminId: removed[0].id });
  }

  /** One change of an admin and its audit entry (`details` says what changed), in one transaction. */
  private async updateByEmail(email: string, assignments: string, values: unknown[], details: Record<string, unknown>): Promise<PlatformAdmin> {
    const rows = await this.db.transaction(async (manager) => {
      // `assignments` is one of the constant SET lists above, never user text; values are parameters.
      const updated = returnedRows<{ id: string }>(
        await manager.query(`UPDATE platform_admins SET ${assignments}, updated_at = now() WHERE lower(email) = lower($1) RETURNING id`, [
          email.trim(),
          ...values,
        ]),
      );
      if (updated.length === 0) throw new NotFoundError(`No platform admin has the email ${email.trim().toLowerCase()}.`);
      await new AuditLogStore(manager).record({ action: 'platform_admin.updated', target: { type: 'platform_admin', id: updated[0].id }, details });
      return updated;
    });
    // After commit: every API replica drops its cached token state of this admin.
    this.events?.publish({ type: 'admin-changed', adminId: rows[0].id });
    return this.get(rows[0].id);
  }
}
