import type { MigrationInterface, QueryRunner } from 'typeorm';
import { EVENT_DELIVERIES_TRIGGER, NOTE_RENAMES } from './1732740000000-Webhooks';
import { deliveriesForEvent, ORGANIZATION_AS_PRESENTED } from './1732770000000-WebhookOrganizationRepresentation';

/**
 * Webhook deliveries are written by the organization store, in the transaction of their event,
 * with the payload rendered by the presenter the API answers with
 * (libs/common/src/control-plane/organization-event-rows.ts): the plpgsql copy of the
 * representation, and the transaction-local rename note it read, go. The NOTIFY of each new
 * delivery stays. Every process must run the store of this version once it has run: an older
 * one would write events without their deliveries.
 */
export class WebhookDeliveriesWrittenByStore1732790000000 implements MigrationInterface {
  name = 'WebhookDeliveriesWrittenByStore1732790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER organization_events_webhooks ON organization_events`);
    await q.query(`DROP TRIGGER organizations_webhook_rename ON organizations`);
    await q.query(`DROP FUNCTION webhook_deliveries_for_event(), webhook_note_rename()`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const sql of NOTE_RENAMES) await q.query(sql);
    await q.query(deliveriesForEvent(ORGANIZATION_AS_PRESENTED));
    await q.query(EVENT_DELIVERIES_TRIGGER);
  }
}
