import type { Organization } from '../organizations/organization.entity';
import type { OrganizationEvent } from '../organizations/organization-event.entity';
import { presentOrganization } from '../organizations/organization-representation';
import type { WebhookEventType } from './webhook-events';

/**
 * The body of a webhook (`WebhookEvent` in the API document), written once when its event is, so
 * every attempt and redelivery sends the same bytes: `organization` is `org` as the API presents
 * it, read in the transaction of the event, after its change.
 */
export function webhookEventBody(type: WebhookEventType, event: OrganizationEvent, org: Organization): string {
  return JSON.stringify({
    type,
    timestamp: event.at.toISOString(),
    data: { event_id: event.id, organization: presentOrganization(org), previous_status: event.fromStatus, request_id: event.requestId },
  });
}
