import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { scratchControlDatabase } from './support/control-database';

describe('Control migration 1732770000000: webhooks carry the whole organization representation', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;

  /** A `deleted` organization whose status change is recorded now: the payload of its `organization.deleted` webhook. */
  async function deletedEventPayload(): Promise<Record<string, unknown>> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email, deleted_at, purge_after)
       VALUES ($1, $2::text, $2::text, $2::text, $3, 'deleted', 'a@example.test', '2026-12-05T06:00:00Z', '2026-12-12T06:00:00Z')`,
      [id, `gone-${id.slice(0, 8)}`, `db_${id.slice(0, 8)}`],
    );
    await ds.query(`INSERT INTO organization_events (org_id, from_status, to_status) VALUES ($1, 'active', 'deleted')`, [id]);
    const [delivery] = await ds.query('SELECT payload FROM webhook_deliveries WHERE org_id = $1', [id]);
    return JSON.parse(delivery.payload).data.organization;
  }

  before(async () => {
    ({ dataSource: ds, drop } = await scratchControlDatabase('webhook_org'));
    await ds.query(`INSERT INTO webhook_endpoints (id, url, events, secret_sealed) VALUES ($1, 'https://hooks.example.test/', '{organization.deleted}', 'x')`, [
      randomUUID(),
    ]);
  });

  after(() => drop?.());

  it('when it has run, then the organization of an event has every member of its API representation, with the grace period of a deleted one', async () => {
    const organization = await deletedEventPayload();
    expect(organization).to.include({
      status: 'deleted',
      database_role: 'shared',
      database_server: null,
      deleted_at: '2026-12-05T06:00:00.000Z',
      purge_after: '2026-12-12T06:00:00.000Z',
    });
  });

  it('when it is reverted, then events carry the organization as before it (no role, no deletion times)', async () => {
    // The migrations after it go first, newest first, as a real revert would.
    for (let last = ''; last !== 'WebhookOrganizationRepresentation1732770000000'; ) {
      [{ name: last }] = await ds.query('SELECT name FROM control_migrations ORDER BY id DESC LIMIT 1');
      await ds.undoLastMigration();
    }
    const organization = await deletedEventPayload();
    expect(organization).to.include({ status: 'deleted' });
    expect(organization).to.not.have.any.keys('database_role', 'deleted_at', 'purge_after');
  });
});
