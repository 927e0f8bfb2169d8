import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Platform admins get what organization users have: a token version that every request checks
 * (a password change, deactivation or removal bumps or ends it) and an active flag.
 */
export class PlatformAdminRevocation1732400000000 implements MigrationInterface {
  name = 'PlatformAdminRevocation1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE platform_admins
        ADD COLUMN token_version integer NOT NULL DEFAULT 0,
        ADD COLUMN is_active boolean NOT NULL DEFAULT true,
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE platform_admins DROP COLUMN token_version, DROP COLUMN is_active, DROP COLUMN updated_at`);
  }
}
