import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Spare databases (docs/operations/fleet-and-capacity.md, "Spare databases"): clones of a server's
 * template made ahead of demand, so creating an organization renames one instead of cloning.
 * The row is the durable state of a spare: `preparing` while it is cloned, `ready` to be claimed,
 * `claimed` (by `claimed_by`) from the claim until its rename into the organization's name is
 * recorded, when the row is deleted. `template_version` is the tenant migration it was cloned at:
 * only spares at the current one are claimed, the others are retired.
 */
export class SpareDatabases1732860000000 implements MigrationInterface {
  name = 'SpareDatabases1732860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE spare_databases (
        id uuid PRIMARY KEY,
        server_id uuid NOT NULL REFERENCES database_servers (id),
        template_version varchar(200) NOT NULL,
        status varchar(16) NOT NULL CHECK (status IN ('preparing', 'ready', 'claimed')),
        claimed_by uuid UNIQUE REFERENCES organizations (id),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CHECK ((status = 'claimed') = (claimed_by IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX spare_databases_ready ON spare_databases (server_id, created_at) WHERE status = 'ready'`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The spares themselves stay on their servers: marked `orgms:spare:<id>`, never taken for organizations' databases.
    await q.query(`DROP TABLE spare_databases`);
  }
}
