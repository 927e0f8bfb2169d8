import { INITIAL_STATUS, ORGANIZATION_STATUSES, type OrganizationStatus } from '../organizations/organization-status';

/** Every status but the first is an event of its own; the first is `organization.created`. */
type LaterStatus = Exclude<OrganizationStatus, typeof INITIAL_STATUS>;

export type WebhookEventType =
  | 'organization.created'
  | `organization.${LaterStatus}`
  | 'organization.renamed'
  | 'organization.quota_exceeded'
  | 'backup.restore_test_failed';

/** The `step` of an event without a status change that records an organization going over a quota (the quota sweep). */
export const QUOTA_EXCEEDED_STEP = 'quota_exceeded';

/** The `step` of an event without a status change that records a restore drill that failed on one of the organization's backups. */
export const RESTORE_TEST_FAILED_STEP = 'restore_test_failed';

/**
 * The events an endpoint can subscribe to, derived from the organization's statuses, so a new
 * lifecycle state is an event without a change here (webhookEventTypeOf names them the same way:
 * `organization.<new status>`).
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  'organization.created',
  ...ORGANIZATION_STATUSES.filter((status): status is LaterStatus => status !== INITIAL_STATUS).map((status) => `organization.${status}` as const),
  'organization.renamed',
  'organization.quota_exceeded',
  'backup.restore_test_failed',
];

/**
 * The webhook an organization event is, if any: the first event is `organization.created`, a
 * status change `organization.<new status>`, and an event without one `organization.renamed` when
 * its transaction changed the name, `organization.quota_exceeded` when its step is
 * QUOTA_EXCEEDED_STEP, `backup.restore_test_failed` when it is RESTORE_TEST_FAILED_STEP; other progress (provisioning steps, an admin email change) is no webhook.
 */
export function webhookEventTypeOf(
  event: { fromStatus: OrganizationStatus | null; toStatus: OrganizationStatus; step?: string | null },
  renamed: boolean,
): WebhookEventType | undefined {
  if (event.fromStatus === null) return 'organization.created';
  if (event.fromStatus !== event.toStatus) return `organization.${event.toStatus as LaterStatus}`;
  if (event.step === QUOTA_EXCEEDED_STEP) return 'organization.quota_exceeded';
  if (event.step === RESTORE_TEST_FAILED_STEP) return 'backup.restore_test_failed';
  return renamed ? 'organization.renamed' : undefined;
}
