import type { DataSource } from 'typeorm';
import { type Clock, systemClock } from '../clock';

export type IdempotencyClaim = { claimed: true } | { claimed: false; requestHash: string; organizationId: string | null };

/**
 * The one owner of `idempotency_keys`. A caller's key is claimed by inserting it (the primary key
 * decides between concurrent requests); the claim is completed with the organization it made, or
 * released when the request failed, so a retry with the same key can try again. Keys live
 * `ttlMs`: older ones no longer count and are removed.
 */
export class IdempotencyKeyStore {
  constructor(
    private readonly db: DataSource,
    private readonly ttlMs: number,
    private readonly clock: Clock = systemClock,
  ) {}

  async claim(scope: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const now = this.clock.now();
    await this.db.query(`DELETE FROM idempotency_keys WHERE created_at < $2::timestamptz - make_interval(secs => $1::double precision / 1000)`, [
      this.ttlMs,
      now,
    ]);
    // Dated by the clock, which decides when the key expires.
    const inserted = await this.db.query(
      `INSERT INTO idempotency_keys (scope, key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING key`,
      [scope, key, requestHash, now],
    );
    if (inserted.length > 0) return { claimed: true };
    const [row]: { requestHash: string; organizationId: string | null }[] = await this.db.query(
      `SELECT request_hash AS "requestHash", organization_id AS "organizationId" FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, key],
    );
    // Released between the insert and the read: claim again.
    return row ? { claimed: false, ...row } : this.claim(scope, key, requestHash);
  }

  async complete(scope: string, key: string, organizationId: string): Promise<void> {
    await this.db.query(`UPDATE idempotency_keys SET organization_id = $3 WHERE scope = $1 AND key = $2`, [scope, key, organizationId]);
  }

  async release(scope: string, key: string): Promise<void> {
    await this.db.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND organization_id IS NULL`, [scope, key]);
  }
}
