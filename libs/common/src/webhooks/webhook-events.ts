import { INITIAL_STATUS, ORGANIZATION_STATUSES, type OrganizationStatus } from '../organizations/organization-status';

/** Every status but the first is an event of its own; the first is `organization.created`. */
type LaterStatus = Exclude<OrganizationStatus, typeof INITIAL_STATUS>;

export type WebhookEventType = 'organization.created' | `organization.${LaterStatus}` | 'organization.renamed';

/**
 * The events an endpoint can subscribe to, derived from the organization's statuses, so a new
 * lifecycle state is an event without a change here (webhookEventTypeOf names them the same way:
 * `organization.<new status>`).
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'organization.created',
  ...ORGANIZATION_STATUSES.filter((status): status is LaterStatus => status !== INITIAL_STATUS).map((status) => `organization.${status}` as const),
  'organization.renamed',
];

/**
 * The webhook an organization event is, if any: the first event is `organization.created`, a
 * status change `organization.<new status>`, and an event without one `organization.renamed` when
 * its transaction changed the name; other progress (provisioning steps, an admin email change)
 * is no webhook.
 */
export function webhookEventTypeOf(
  event: { fromStatus: OrganizationStatus | null; toStatus: OrganizationStatus },
  renamed: boolean,
): WebhookEventType | undefined {
  if (event.fromStatus === null) return 'organization.created';
  if (event.fromStatus !== event.toStatus) return `organization.${event.toStatus as LaterStatus}`;
  return renamed ? 'organization.renamed' : undefined;
}
