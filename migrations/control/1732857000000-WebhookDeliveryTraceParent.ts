import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each webhook delivery remembers the trace of the change that caused it (a W3C `traceparent`,
 * written with the outbox row when tracing is on), so its sending joins that trace although the
 * worker finds the delivery later, through a notification or a sweep.
 */
export class WebhookDeliveryTraceParent1732857000000 implements MigrationInterface {
  name = 'WebhookDeliveryTraceParent1732857000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN trace_parent text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN trace_parent`);
  }
}
