import { ConflictError } from '@orgms/common/errors';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import type { Response } from 'express';
import { organizationOf } from '../sign-in/authorize-organization';

/**
 * The organization a dump (an export, a backup) is asked of. The authorizer's `requireActive`
 * lets a `moving` organization through (its reads work); a dump needs it to stay where it is.
 */
export function organizationToDump(res: Response, dumps: 'exports' | 'backups'): Organization {
  const org = organizationOf(res);
  if (org.status !== 'active')
    throw new ConflictError(`Organization ${org.id} is ${org.status}; ${dumps} need it to be active.`, { organization_status: org.status });
  return org;
}
