import type { EntityManager } from 'typeorm';
import { webhookEventBody } from '../webhooks/webhook-event-body';
import { webhookEventTypeOf } from '../webhooks/webhook-events';
import { WebhookStore } from '../webhooks/webhook-store';
import type { Organization } from './organization.entity';
import { OrganizationEvent } from './organization-event.entity';
import type { OrganizationStatus } from './organization-status';

/** What an event records; its id and time come from the database. */
export interface NewOrganizationEvent {
  fromStatus: OrganizationStatus | null;
  toStatus: OrganizationStatus;
  step: string | null;
  detail: string | null;
  requestId: string | null;
}

/**
 * Appends an event of `org` (as it is after the change the event records) in `db`'s transaction,
 * with its webhook deliveries. `renamed`: the transaction changed the organization's name.
 */
export async function appendOrganizationEvent(
  db: EntityManager,
  org: Organization,
  fields: NewOrganizationEvent,
  renamed: boolean,
): Promise<OrganizationEvent> {
  const [row]: { id: string; at: Date }[] = await db.query(
    `INSERT INTO organization_events (org_id, from_status, to_status, step, detail, request_id) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING id::text AS id, at`,
    [org.id, fields.fromStatus, fields.toStatus, fields.step, fields.detail, fields.requestId],
  );
  const event = Object.assign(new OrganizationEvent(), { ...fields, ...row, orgId: org.id });
  await writeWebhookDeliveries(db, event, org, renamed);
  return event;
}

/**
 * The webhook deliveries of `event`, just written in `db`'s transaction: rendered here, in code,
 * with the organization as the API presents it. Only appendOrganizationEvent and the store's
 * one-statement change (which writes its event in the statement of the update) call this.
 */
export async function writeWebhookDeliveries(db: EntityManager, event: OrganizationEvent, org: Organization, renamed: boolean): Promise<void> {
  const type = webhookEventTypeOf(
    { fromStatus: event.fromStatus as OrganizationStatus | null, toStatus: event.toStatus as OrganizationStatus, step: event.step },
    renamed,
  );
  if (type) await WebhookStore.writeDeliveries(db, { orgId: org.id, eventId: event.id, type, payload: webhookEventBody(type, event, org) });
}
