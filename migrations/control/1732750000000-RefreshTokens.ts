import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh tokens of platform admins and organization users alike, in the control database: a
 * refresh token arrives on its own, so it must be found without knowing its organization;
 * rotating it and revoking its whole family is then one transaction in one database; and an
 * organization database (restored, moved, dropped) carries no session state. Only the SHA-256 of
 * a token is stored (tokens are 256 random bits, so a plain hash cannot be reversed). A token is
 * `used` once traded for its successor; its family is every token descended from one login.
 */
export class RefreshTokens1732750000000 implements MigrationInterface {
  name = 'RefreshTokens1732750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        family_id uuid NOT NULL,
        token_hash char(64) NOT NULL UNIQUE,
        subject_kind varchar(20) NOT NULL CHECK (subject_kind IN ('platform_admin','org_user')),
        subject_id uuid NOT NULL,
        org_id uuid,
        token_version integer NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        revoked_at timestamptz(3),
        CHECK ((subject_kind = 'org_user') = (org_id IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(`CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE refresh_tokens`);
  }
}
