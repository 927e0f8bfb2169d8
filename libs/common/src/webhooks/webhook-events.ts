import { INITIAL_STATUS, ORGANIZATION_STATUSES, type OrganizationStatus } from '../entities/organization-status';

/** Every status but the first is an event of its own; the first is `organization.created`. */
type LaterStatus = Exclude<OrganizationStatus, typeof INITIAL_STATUS>;

export type WebhookEventType = 'organization.created' | `organization.${LaterStatus}` | 'organization.renamed';

/**
 * The events an endpoint can subscribe to, derived from the organization's statuses, so a new
 * lifecycle state is an event without a change here. The control database's trigger names them
 * the same way (migrations/control/1732740000000-Webhooks.ts): `organization.<new status>`.
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'organization.created',
  ...ORGANIZATION_STATUSES.filter((status): status is LaterStatus => status !== INITIAL_STATUS).map((status) => `organization.${status}` as const),
  'organization.renamed',
];
