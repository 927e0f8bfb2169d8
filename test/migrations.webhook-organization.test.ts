import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { scratchControlDatabase } from './support/control-database';

describe('Control migrations 1732770000000 and 1732790000000: how webhooks render the organization', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;

  /** A `deleted` organization whose status change is recorded now, written directly; its `organization.deleted` deliveries' organizations. */
  async function deletedEventOrganizations(): Promise<Record<string, unknown>[]> {
    const id = randomUUID();
    await ds.query(
      `INSERT INTO organizations (id, name, name_key, slug, database_name, status, admin_email, deleted_at, purge_after)
       VALUES ($1, $2::text, $2::text, $2::text, $3, 'deleted', 'a@example.test', '2026-12-05T06:00:00Z', '2026-12-12T06:00:00Z')`,
      [id, `gone-${id.slice(0, 8)}`, `db_${id.slice(0, 8)}`],
    );
    await ds.query(`INSERT INTO organization_events (org_id, from_status, to_status) VALUES ($1, 'active', 'deleted')`, [id]);
    const deliveries: { payload: string }[] = await ds.query('SELECT payload FROM webhook_deliveries WHERE org_id = $1', [id]);
    return deliveries.map((d) => JSON.parse(d.payload).data.organization);
  }

  /** The webhook trigger functions the control database has. */
  async function renderingFunctions(): Promise<string[]> {
    const rows: { proname: string }[] = await ds.query(
      `SELECT proname FROM pg_proc WHERE proname IN ('webhook_deliveries_for_event', 'webhook_note_rename', 'webhook_delivery_notify') ORDER BY proname`,
    );
    return rows.map((r) => r.proname);
  }

  /** Reverts the newest migrations, newest first as a real revert would, up to and including `name`. */
  async function revertThrough(name: string): Promise<void> {
    for (let last = ''; last !== name; ) {
      [{ name: last }] = await ds.query('SELECT name FROM control_migrations ORDER BY id DESC LIMIT 1');
      await ds.undoLastMigration();
    }
  }

  before(async () => {
    ({ dataSource: ds, drop } = await scratchControlDatabase('webhook_org'));
    await ds.query(
      `INSERT INTO webhook_endpoints (id, url, events, secret_sealed) VALUES ($1, 'https://hooks.example.test/', '{organization.deleted,organization.renamed}', 'x')`,
      [randomUUID()],
    );
  });

  after(() => drop?.());

  it('when 1732790000000 has run, then the database renders no webhook: an event written directly has no delivery, and only the NOTIFY of new deliveries is left', async () => {
    expect(await deletedEventOrganizations()).to.deep.equal([]);
    expect(await renderingFunctions()).to.deep.equal(['webhook_delivery_notify']);
  });

  it('when 1732790000000 is reverted, then the trigger renders every member of the API representation again, with the grace period of a deleted one, and renames', async () => {
    await revertThrough('WebhookDeliveriesWrittenByStore1732790000000');
    expect(await renderingFunctions()).to.deep.equal(['webhook_deliveries_for_event', 'webhook_delivery_notify', 'webhook_note_rename']);
    const [organization] = await deletedEventOrganizations();
    expect(organization).to.include({
      status: 'deleted',
      database_role: 'shared',
      database_server: null,
      deleted_at: '2026-12-05T06:00:00.000Z',
      purge_after: '2026-12-12T06:00:00.000Z',
    });
    const id = organization.id as string;
    await ds.transaction(async (manager) => {
      await manager.query(`UPDATE organizations SET name = $2::text, name_key = $2::text WHERE id = $1`, [id, `renamed-${id.slice(0, 8)}`]);
      await manager.query(`INSERT INTO organization_events (org_id, from_status, to_status) VALUES ($1, 'deleted', 'deleted')`, [id]);
    });
    const types: { event_type: string }[] = await ds.query('SELECT event_type FROM webhook_deliveries WHERE org_id = $1 ORDER BY seq', [id]);
    expect(types.map((t) => t.event_type)).to.deep.equal(['organization.deleted', 'organization.renamed']);
  });

  it('when 1732770000000 is reverted too, then events carry the organization as before it (no role, no deletion times)', async () => {
    await revertThrough('WebhookOrganizationRepresentation1732770000000');
    const [organization] = await deletedEventOrganizations();
    expect(organization).to.include({ status: 'deleted' });
    expect(organization).to.not.have.any.keys('database_role', 'deleted_at', 'purge_after');
  });
});
