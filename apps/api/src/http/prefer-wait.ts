import type { Organization } from '@orgms/common/organizations/organization.entity';
import { IN_PROGRESS_STATUSES } from '@orgms/common/organizations/organization-status';
import type { Request, Response } from 'express';
import type { OrganizationEventsHub } from '../events/organization-events-hub';
import type { OrganizationsService } from '../organizations/organizations.service';

/** The longest a client may make us hold an answer. */
export const MAX_WAIT_SECONDS = 30;

/** `Prefer: wait=N` (RFC 7240 §4.3), clamped to MAX_WAIT_SECONDS; undefined when absent or malformed. */
export function preferredWait(req: Request): number | undefined {
  const header = req.get('Prefer');
  if (!header) return undefined;
  for (const preference of header.split(/[,;]/)) {
    const match = /^\s*wait\s*=\s*"?(\d{1,6})"?\s*$/i.exec(preference);
    if (match) return Math.min(Number(match[1]), MAX_WAIT_SECONDS);
  }
  return undefined;
}

/** Where a long-poll reads the organization again, and hears that its status changed. */
export interface StatusSources {
  organizations: Pick<OrganizationsService, 'get'>;
  events: Pick<OrganizationEventsHub, 'waitForStatusChange'>;
}

/**
 * Long-poll: with `Prefer: wait=N`, holds the answer for an organization in progress (pending,
 * provisioning, moving, purging) until its status differs from `org.status` or N seconds pass, then
 * answers the organization as it is then, with `Preference-Applied`. Without the header,
 * answers at once.
 */
export async function holdUntilStatusChanges(sources: StatusSources, req: Request, res: Response, org: Organization): Promise<Organization> {
  const wait = preferredWait(req);
  if (wait === undefined) return org;
  res.setHeader('Preference-Applied', `wait=${wait}`);
  res.vary('Prefer');
  // Only work in progress is worth waiting for. Holding a settled organization (active, failed,
  // deleted, purged) would stall a client that polls again just after the change it waited for: its
  // next request would wait the full N seconds for a change that is not coming.
  if (wait === 0 || !IN_PROGRESS_STATUSES.includes(org.status)) return org;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.on('close', onClose);
  try {
    const read = () => sources.organizations.get(org.id).then((o) => o.status);
    await sources.events.waitForStatusChange(org.id, org.status, wait * 1000, read, gone.signal);
    // Read again even on timeout: the step or last_error may have moved meanwhile.
    return gone.signal.aborted ? org : await sources.organizations.get(org.id);
  } finally {
    res.off('close', onClose);
  }
}
