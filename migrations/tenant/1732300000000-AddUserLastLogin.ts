import type { MigrationInterface, QueryRunner } from 'typeorm';

/** When a user last signed in: lets org admins spot dormant accounts. Nullable, so instant on any size. */
export class AddUserLastLogin1732300000000 implements MigrationInterface {
  name = 'AddUserLastLogin1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN last_login_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN last_login_at`);
  }
}
