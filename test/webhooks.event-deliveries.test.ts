import { randomBytes, randomUUID } from 'node:crypto';
import { presentOrganization } from '@orgms/api/organizations/organization.presenter';
import { ConflictError } from '@orgms/common/errors';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { type NewOrganization, OrganizationStore } from '@orgms/common/organizations/organization-store';
import { SecretBox } from '@orgms/common/secret-box';
import { expect } from 'chai';
import type { DataSource } from 'typeorm';
import { scratchControlDatabase } from './support/control-database';
import { uniqueName } from './support/organizations';

interface DeliveryRow {
  endpoint_id: string;
  event_id: string;
  event_type: string;
  message_id: string;
  payload: string;
}

describe('Webhook deliveries of organization events (written by the organization store)', () => {
  let ds: DataSource;
  let drop: () => Promise<void>;
  let store: OrganizationStore;
  let serverId: string;

  before(async () => {
    ({ dataSource: ds, drop } = await scratchControlDatabase('webhook_events'));
    store = new OrganizationStore(ds);
    const servers = new DatabaseServerStore(ds, new SecretBox({ id: 'test', key: randomBytes(32) }));
    serverId = (
      await servers.create({ name: 'main', adminUrl: 'postgres://postgres@127.0.0.1:5432/postgres', poolUrl: null, capacity: 100, connectionBudget: 10 })
    ).id;
  });
  after(() => drop?.());
  // Each spec subscribes its own endpoints.
  afterEach(() => ds.query('DELETE FROM webhook_endpoints'));

  /** An endpoint of the spec's own database subscribed to `events` (what POST /webhooks writes). */
  async function subscribe(events: string[]): Promise<string> {
    const id = randomUUID();
    await ds.query(`INSERT INTO webhook_endpoints (id, url, events, secret_sealed) VALUES ($1, 'https://hooks.example.test/', $2, 'x')`, [id, events]);
    return id;
  }

  async function create(labels: Pick<NewOrganization, 'externalId' | 'metadata'> = {}): Promise<Organization> {
    const name = uniqueName('Hooked');
    return store.create(
      {
        id: randomUUID(),
        name,
        slug: `hooked-${randomUUID().slice(0, 8)}`,
        databaseName: `db_${randomUUID().slice(0, 8)}`,
        adminEmail: 'owner@example.test',
        pendingAdminPasswordHash: null,
        ...labels,
      },
      { requestId: `req-${name}`, place: () => serverId },
    );
  }

  async function deliveriesOf(orgId: string): Promise<DeliveryRow[]> {
    return ds.query(`SELECT endpoint_id, event_id::text, event_type, message_id, payload FROM webhook_deliveries WHERE org_id = $1 ORDER BY seq`, [orgId]);
  }

  it('when an organization is created, renamed, provisioned and deleted, then each subscribed endpoint gets each event in order, with the organization as the API presents it after the change', async () => {
    const types = ['organization.created', 'organization.renamed', 'organization.provisioning', 'organization.deleted'];
    const [first, second] = [await subscribe(types), await subscribe(types)].sort();
    const created = await create();
    const renamed = await store.amend(created.id, { name: uniqueName('Renamed') }, { requestId: 'req-rename', audit: 'organization.renamed' });
    const provisioning = await store.transition(created.id, 'provisioning', { step: 'create_database', requestId: 'req-provision' });
    await store.recordStep(created.id, 'provisioning', { step: 'migrate' });
    const deleted = await store.markDeleted(created.id, { requestId: 'req-delete', graceMs: 3600_000 });

    const rows = await deliveriesOf(created.id);
    const events: { id: string; at: Date; from_status: string | null; request_id: string | null }[] = await ds.query(
      `SELECT id::text, at, from_status, request_id FROM organization_events WHERE org_id = $1 AND id = ANY($2) ORDER BY id`,
      [created.id, [...new Set(rows.map((r) => r.event_id))]],
    );
    expect(rows.map((r) => `${r.event_type} ${r.endpoint_id}`)).to.deep.equal(types.flatMap((type) => [`${type} ${first}`, `${type} ${second}`]));
    const expected = [created, renamed, provisioning, deleted];
    events.forEach((event, i) => {
      const [one, other] = rows.slice(2 * i, 2 * i + 2);
      expect(one.payload, 'every endpoint gets the same bytes').to.equal(other.payload);
      expect(one.message_id).to.equal(`msg_${event.id}`);
      expect(JSON.parse(one.payload)).to.deep.equal({
        type: types[i],
        timestamp: event.at.toISOString(),
        data: { event_id: event.id, organization: presentOrganization(expected[i]), previous_status: event.from_status, request_id: event.request_id },
      });
    });
    expect(JSON.parse(rows[6].payload).data.organization)
      .to.include({ status: 'deleted', database_server: 'main' })
      .and.have.property('purge_after')
      .that.is.a('string');
  });

  it('when an organization has an external id and metadata, then its webhooks carry both as they are after each change (the metadata merged)', async () => {
    await subscribe(['organization.created', 'organization.renamed', 'organization.provisioning']);
    const created = await create({ externalId: 'cus_hooked_1', metadata: { plan: 'trial', region: 'eu' } });
    await store.amend(
      created.id,
      { name: uniqueName('Upgraded'), externalId: 'cus_hooked_2' },
      { requestId: 'req-upgrade', metadataChanges: { plan: 'enterprise', region: null, crm: 'acct-7' } },
    );
    await store.transition(created.id, 'provisioning', { step: 'create_database' });

    const organizations = (await deliveriesOf(created.id)).map((row) => JSON.parse(row.payload).data.organization);
    expect(organizations.map((org) => [org.external_id, org.metadata])).to.deep.equal([
      ['cus_hooked_1', { plan: 'trial', region: 'eu' }],
      ['cus_hooked_2', { plan: 'enterprise', crm: 'acct-7' }],
      ['cus_hooked_2', { plan: 'enterprise', crm: 'acct-7' }],
    ]);
  });

  it('when an event has no endpoint subscribed to its type, or is no webhook event (a step, an admin email change), then no delivery is written', async () => {
    await subscribe(['organization.purged']);
    const org = await create();
    await store.amend(org.id, { adminEmail: 'new-owner@example.test', name: org.name }, { requestId: 'req-email' });
    await store.transition(org.id, 'provisioning', { step: 'create_database' });
    await store.recordStep(org.id, 'provisioning', { step: 'migrate' });
    expect(await deliveriesOf(org.id)).to.deep.equal([]);
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM organization_events WHERE org_id = $1`, [org.id]);
    expect(n).to.equal(4);
  });

  it('when the change of an event is refused and rolls back, then neither the event nor its delivery is written', async () => {
    await subscribe(['organization.renamed']);
    const [taken, org] = [await create(), await create()];
    const error = await store.amend(org.id, { name: taken.name }, { requestId: 'req-taken' }).catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConflictError);
    expect(await deliveriesOf(org.id)).to.deep.equal([]);
  });
});
