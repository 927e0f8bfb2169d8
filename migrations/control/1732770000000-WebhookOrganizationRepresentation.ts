import type { MigrationInterface, QueryRunner } from 'typeorm';

const UTC_ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** What webhooks carried until now: the members the API representation had when webhooks were built. */
const ORGANIZATION_BEFORE = `jsonb_build_object(
  'id', o.id, 'name', o.name, 'slug', o.slug, 'status', o.status, 'step', o.step,
  'last_error', o.last_error, 'admin_email', o.admin_email, 'schema_version', o.schema_version,
  'database_server', (SELECT s.name FROM database_servers s WHERE s.id = o.database_server_id),
  'created_at', to_char(o.created_at AT TIME ZONE 'UTC', ${UTC_ISO}),
  'updated_at', to_char(o.updated_at AT TIME ZONE 'UTC', ${UTC_ISO}))`;

/**
 * The organization exactly as the API presents it (`presentOrganization`, the `Organization`
 * schema), by the same rules as ORGANIZATION_COLUMNS: `database_role` is `own` once its role is
 * granted on a server with tenant roles; `purge_after` is shown only while `deleted`.
 */
export const ORGANIZATION_AS_PRESENTED = `jsonb_build_object(
  'id', o.id, 'name', o.name, 'slug', o.slug, 'status', o.status, 'step', o.step,
  'last_error', o.last_error, 'admin_email', o.admin_email, 'schema_version', o.schema_version,
  'database_server', s.name,
  'database_role', CASE WHEN s.tenant_roles AND EXISTS (
      SELECT 1 FROM tenant_database_roles r WHERE r.org_id = o.id AND r.granted_at IS NOT NULL) THEN 'own' ELSE 'shared' END,
  'deleted_at', to_char(o.deleted_at AT TIME ZONE 'UTC', ${UTC_ISO}),
  'purge_after', CASE WHEN o.status = 'deleted' THEN to_char(o.purge_after AT TIME ZONE 'UTC', ${UTC_ISO}) END,
  'created_at', to_char(o.created_at AT TIME ZONE 'UTC', ${UTC_ISO}),
  'updated_at', to_char(o.updated_at AT TIME ZONE 'UTC', ${UTC_ISO}))`;

/** The trigger function of 1732740000000-Webhooks, with the organization built by `organization`. */
export function deliveriesForEvent(organization: string): string {
  return `
    CREATE OR REPLACE FUNCTION webhook_deliveries_for_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
      SELECT ${organization}
        INTO organization
        FROM organizations o LEFT JOIN database_servers s ON s.id = o.database_server_id
       WHERE o.id = NEW.org_id;
      body := jsonb_build_object(
        'type', event_type,
        'timestamp', to_char(NEW.at AT TIME ZONE 'UTC', ${UTC_ISO}),
        'data', jsonb_build_object(
          'event_id', NEW.id::text,
          'organization', organization,
          'previous_status', NEW.from_status,
          'request_id', NEW.request_id))::text;
      INSERT INTO webhook_deliveries (endpoint_id, org_id, event_id, event_type, message_id, payload)
        SELECT e.id, NEW.org_id, NEW.id, event_type, 'msg_' || NEW.id, body
          FROM webhook_endpoints e WHERE e.events @> ARRAY[event_type] ORDER BY e.id;
      RETURN NULL;
    END $$`;
}

/**
 * A webhook's `data.organization` becomes the whole API representation of the organization
 * (adding `database_role`, `deleted_at`, `purge_after`), so a receiver sees what `GET
 * /organizations/{id}` would have answered in the transaction of the event.
 */
export class WebhookOrganizationRepresentation1732770000000 implements MigrationInterface {
  name = 'WebhookOrganizationRepresentation1732770000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(deliveriesForEvent(ORGANIZATION_AS_PRESENTED));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(deliveriesForEvent(ORGANIZATION_BEFORE));
  }
}
