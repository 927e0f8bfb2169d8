import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Who did what: logins (succeeded and failed), user, organization and webhook changes. The actor
 * is null for an anonymous caller (a failed login); `details` never holds a password, a token or
 * a hash. Read newest first, by organization, actor, action and time.
 */
export class AuditLog1732760000000 implements MigrationInterface {
  name = 'AuditLog1732760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        at timestamptz(3) NOT NULL DEFAULT now(),
        actor_kind varchar(20) CHECK (actor_kind IN ('platform_admin','org_user')),
        actor_id uuid,
        org_id uuid,
        action varchar(100) NOT NULL,
        target_type varchar(40),
        target_id varchar(200),
        request_id varchar(200),
        details jsonb NOT NULL DEFAULT '{}',
        CHECK ((actor_kind IS NULL) = (actor_id IS NULL))
      )`);
    await q.query(`CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_org_idx ON audit_log (org_id, at DESC, id DESC)`);
    await q.query(`CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log`);
  }
}
