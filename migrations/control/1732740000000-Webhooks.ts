import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed webhooks (libs/common control-plane/webhook-store.ts owns both tables).
 *
 * Deliveries are an outbox written in the SAME transaction as the organization event that causes
 * them: a trigger on `organization_events` inserts one `webhook_deliveries` row per subscribed
 * endpoint, so an event that commits always has its deliveries, and one that rolls back has none,
 * whichever process (API or worker) made the change. A trigger on `webhook_deliveries` then
 * NOTIFYs the worker (delivered only on commit); the worker's periodic sweep picks up whatever a
 * notification missed.
 *
 * The event type: the first event is `organization.created`, a status change is
 * `organization.<new status>` (so any later lifecycle state has its event without a change
 * here), and an event without a status change is `organization.renamed` when the same transaction
 * changed the name (noted by a trigger on `organizations`, transaction-local); other progress
 * events (provisioning steps, an admin email change) are not webhooks.
 *
 * The payload is written once, with the organization as it was in that transaction (the same
 * members as its API representation), so every retry sends the same bytes.
 *
 * Since 1732790000000 the organization store writes the deliveries instead (same rules, rendered
 * in code); only the NOTIFY trigger of this migration is left.
 */
/** The transaction-local note of a rename that the event trigger reads (dropped by 1732790000000; its down restores it from here). */
export const NOTE_RENAMES = [
  `
      CREATE FUNCTION webhook_note_rename() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM set_config('orgms.webhooks_renamed', NEW.id::text, true);
        RETURN NULL;
      END $$`,
  `
      CREATE TRIGGER organizations_webhook_rename AFTER UPDATE OF name ON organizations
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION webhook_note_rename()`,
];

/** Runs webhook_deliveries_for_event for each new event (dropped by 1732790000000; its down restores it from here). */
export const EVENT_DELIVERIES_TRIGGER = `
      CREATE TRIGGER organization_events_webhooks AFTER INSERT ON organization_events
        FOR EACH ROW EXECUTE FUNCTION webhook_deliveries_for_event()`;

export class Webhooks1732740000000 implements MigrationInterface {
  name = 'Webhooks1732740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        description text,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        secret_sealed text NOT NULL,
        previous_secret_sealed text,
        previous_secret_expires_at timestamptz(3),
        status varchar(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active','failing')),
        failing_since timestamptz(3),
        last_error text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_endpoints_events_idx ON webhook_endpoints USING gin (events)`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        seq bigserial NOT NULL UNIQUE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        org_id uuid NOT NULL,
        event_id bigint NOT NULL,
        event_type varchar(60) NOT NULL,
        message_id varchar(60) NOT NULL,
        payload text NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','failed')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        last_attempt_at timestamptz(3),
        response_status integer,
        latency_ms integer,
        last_error text,
        redelivery_of uuid,
        created_at timestamptz(3) NOT NULL DEFAULT clock_timestamp(),
        delivered_at timestamptz(3)
      )`);
    // A lane is one endpoint and one organization: delivered one at a time, in order.
    await q.query(`CREATE INDEX webhook_deliveries_lane_idx ON webhook_deliveries (endpoint_id, org_id, seq) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC)`);
    // What the sweep prunes: finished deliveries past their retention.
    await q.query(`CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (created_at) WHERE status <> 'pending'`);

    for (const sql of NOTE_RENAMES) await q.query(sql);

    await q.query(`
      CREATE FUNCTION webhook_deliveries_for_event() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        renamed boolean := coalesce(current_setting('orgms.webhooks_renamed', true), '') = NEW.org_id::text;
        event_type text;
        organization jsonb;
        body text;
      BEGIN
        IF renamed THEN PERFORM set_config('orgms.webhooks_renamed', '', true); END IF;
        IF NEW.from_status IS NULL THEN
          event_type := 'organization.created';
        ELSIF NEW.from_status IS DISTINCT FROM NEW.to_status THEN
          event_type := 'organization.' || NEW.to_status;
        ELSIF renamed THEN
          event_type := 'organization.renamed';
        ELSE
          RETURN NULL;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM webhook_endpoints WHERE events @> ARRAY[event_type]) THEN
          RETURN NULL;
        END IF;
        SELECT jsonb_build_object(
                 'id', o.id, 'name', o.name, 'slug', o.slug, 'status', o.status, 'step', o.step,
                 'last_error', o.last_error, 'admin_email', o.admin_email, 'schema_version', o.schema_version,
                 'database_server', (SELECT s.name FROM database_servers s WHERE s.id = o.database_server_id),
                 'created_at', to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                 'updated_at', to_char(o.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
          INTO organization FROM organizations o WHERE o.id = NEW.org_id;
        body := jsonb_build_object(
          'type', event_type,
          'timestamp', to_char(NEW.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'data', jsonb_build_object(
            'event_id', NEW.id::text,
            'organization', organization,
            'previous_status', NEW.from_status,
            'request_id', NEW.request_id))::text;
        INSERT INTO webhook_deliveries (endpoint_id, org_id, event_id, event_type, message_id, payload)
          SELECT e.id, NEW.org_id, NEW.id, event_type, 'msg_' || NEW.id, body
            FROM webhook_endpoints e WHERE e.events @> ARRAY[event_type] ORDER BY e.id;
        RETURN NULL;
      END $$`);
    await q.query(EVENT_DELIVERIES_TRIGGER);

    await q.query(`
      CREATE FUNCTION webhook_delivery_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('orgms_webhook_deliveries', NEW.endpoint_id::text || ' ' || NEW.org_id::text);
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
        FOR EACH ROW EXECUTE FUNCTION webhook_delivery_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER organization_events_webhooks ON organization_events`);
    await q.query(`DROP TRIGGER organizations_webhook_rename ON organizations`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_endpoints`);
    await q.query(`DROP FUNCTION webhook_deliveries_for_event(), webhook_note_rename(), webhook_delivery_notify()`);
  }
}
