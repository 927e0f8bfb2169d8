import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An organization's session generation, bumped by every delete: its users' access tokens and
 * refresh tokens carry the generation they were issued under, and only the current one is
 * accepted, so a restore never brings back a session from before the delete (a token's `iat`
 * has whole seconds, too coarse to tell tokens issued just before and just after). Existing rows
 * start at 0, as do tokens issued before this migration (they carry no generation).
 * The index serves the delete's revocation of every refresh token of the organization.
 */
export class SessionGenerations1732780000000 implements MigrationInterface {
  name = 'SessionGenerations1732780000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations ADD COLUMN session_generation integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN session_generation integer NOT NULL DEFAULT 0`);
    await q.query(`CREATE INDEX refresh_tokens_org_idx ON refresh_tokens (org_id) WHERE org_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX refresh_tokens_org_idx`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN session_generation`);
    await q.query(`ALTER TABLE organizations DROP COLUMN session_generation`);
  }
}
