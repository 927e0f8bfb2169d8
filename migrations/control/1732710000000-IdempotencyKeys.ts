import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `Idempotency-Key` on organization creates: one row per caller and key, with a keyed hash of
 * the request and, once created, the organization it made. Rows older than a day are ignored
 * and removed.
 */
export class IdempotencyKeys1732710000000 implements MigrationInterface {
  name = 'IdempotencyKeys1732710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope varchar(200) NOT NULL,
        key varchar(255) NOT NULL,
        request_hash char(64) NOT NULL,
        organization_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
    await q.query(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_keys`);
  }
}
