import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { type Clock, fromNow, systemClock } from '../clock';
import { returnedRows } from '../database/returned-rows';

/** Whose session a refresh token continues: a platform admin, or a user of one organization. */
export type RefreshSubject = { kind: 'platform_admin'; id: string } | { kind: 'org_user'; id: string; orgId: string };

/** What a refresh token holds only while its account and organization still have them. */
export interface SessionVersions {
  /** The account's token version: a password, role or activity change bumps it. */
  tokenVersion: number;
  /** The organization's session generation (0 for platform admins): a delete bumps it. */
  sessionGeneration: number;
}

/** A stored refresh token, as found by its text. */
export interface RefreshTokenRecord extends SessionVersions {
  id: string;
  familyId: string;
  subject: RefreshSubject;
  /**
   * `live` may be traded once; `used` was traded already, within its lifetime, whether or not its
   * family has ended since (a reuse: someone holds a copy); `revoked` and `expired` are dead.
   */
  state: 'live' | 'used' | 'revoked' | 'expired';
}

/** 256 random bits: a plain SHA-256 of such a token cannot be reversed, so no salt or slow hash is needed. */
function newTokenText(): string {
  return randomBytes(32).toString('base64url');
}

function hashOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function insertToken(
  db: EntityManager,
  token: string,
  row: Pick<RefreshTokenRecord, 'familyId' | 'subject'> & SessionVersions,
  expiresAt: Date,
): Promise<void> {
  const { subject } = row;
  await db.query(
    `INSERT INTO refresh_tokens (id, family_id, token_hash, subject_kind, subject_id, org_id, token_version, session_generation, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      randomUUID(),
      row.familyId,
      hashOf(token),
      subject.kind,
      subject.id,
      subject.kind === 'org_user' ? subject.orgId : null,
      row.tokenVersion,
      row.sessionGeneration,
      expiresAt,
    ],
  );
}

/**
 * The one owner of `refresh_tokens`. Only hashes are stored. Each login starts a family; each
 * refresh marks its token used and issues the next one of the family, in one transaction, so of
 * two requests with one token only one can win; the loser sees it used, as a thief would. Each
 * token records the versions it was issued under (SessionVersions), so a token written by a
 * rotation that raced a revocation is still refused once the account or organization moved on.
 */
export class RefreshTokenStore {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock = systemClock,
  ) {}

  /** A new token for `subject`, the first of a new family; answers its text. */
  async issue(subject: RefreshSubject, versions: SessionVersions, ttlSeconds: number): Promise<string> {
    const token = newTokenText();
    await insertToken(this.db.manager, token, { familyId: randomUUID(), subject, ...versions }, fromNow(this.clock, ttlSeconds * 1000));
    return token;
  }

  async find(token: string): Promise<RefreshTokenRecord | undefined> {
    const [row]: Record<string, unknown>[] = await this.db.query(
      `SELECT id, family_id, subject_kind, subject_id, org_id, token_version, session_generation,
              CASE WHEN used_at IS NOT NULL AND expires_at > $2::timestamptz THEN 'used' WHEN revoked_at IS NOT NULL THEN 'revoked'
                   WHEN expires_at <= $2::timestamptz THEN 'expired' ELSE 'live' END AS state
         FROM refresh_tokens WHERE token_hash = $1`,
      [hashOf(token), this.clock.now()],
    );
    if (!row) return undefined;
    const subject: RefreshSubject =
      row.subject_kind === 'org_user'
        ? { kind: 'org_user', id: row.subject_id as string, orgId: row.org_id as string }
        : { kind: 'platform_admin', id: row.subject_id as string };
    return {
      id: row.id as string,
      familyId: row.family_id as string,
      subject,
      tokenVersion: row.token_version as number,
      sessionGeneration: row.session_generation as number,
      state: row.state as RefreshTokenRecord['state'],
    };
  }

  /**
   * Trades the live token `record` for the next of its family (carrying `versions`, as read
   * when the refresh was checked); undefined when it is no longer live (another request traded
   * it first, or it was revoked meanwhile).
   */
  async rotate(record: RefreshTokenRecord, versions: SessionVersions, ttlSeconds: number): Promise<string | undefined> {
    const token = newTokenText();
    const now = this.clock.now();
    const traded = await this.db.transaction(async (manager) => {
      const used = returnedRows(
        await manager.query(
          `UPDATE refresh_tokens SET used_at = $2
            WHERE id = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2::timestamptz RETURNING id`,
          [record.id, now],
        ),
      );
      if (used.length === 0) return false;
      await insertToken(manager, token, { familyId: record.familyId, subject: record.subject, ...versions }, new Date(now.getTime() + ttlSeconds * 1000));
      return true;
    });
    return traded ? token : undefined;
  }

  /**
   * Forgets up to `limit` expired tokens (the reconciler calls it on every run). An expired token
   * is refused whether its row is there or not; only the reuse of a traded one within its
   * lifetime needs the row, to revoke its family.
   */
  async deleteExpired(limit = 5000): Promise<number> {
    const deleted = returnedRows(
      await this.db.query(`DELETE FROM refresh_tokens WHERE id IN (SELECT id FROM refresh_tokens WHERE expires_at <= $2::timestamptz LIMIT $1) RETURNING id`, [
        limit,
        this.clock.now(),
      ]),
    );
    return deleted.length;
  }

  /**
   * Ends every token of the family (logout, reuse of a traded token, a revoked account); true
   * when this call ended it, false when it had ended already. Concurrent calls queue on the row
   * locks and re-check `revoked_at`, so of many at once exactly one answers true.
   */
  async revokeFamily(familyId: string): Promise<boolean> {
    const [, affected]: [unknown, number] = await this.db.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, [
      familyId,
    ]);
    return affected > 0;
  }

  /**
   * Ends every session of the organization's users, in the caller's transaction (the
   * organization's delete, so the two are never apart). A token a concurrent rotation writes
   * after this is refused anyway: it carries the session generation the delete replaced.
   */
  static async revokeOrganization(db: EntityManager, orgId: string): Promise<void> {
    await db.query(`UPDATE refresh_tokens SET revoked_at = now() WHERE org_id = $1 AND revoked_at IS NULL`, [orgId]);
  }
}
