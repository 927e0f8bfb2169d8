import type { Organization } from '@orgms/common/organizations/organization.entity';
import { type OrganizationRepresentation, presentOrganization } from '@orgms/common/organizations/organization-representation';
import type { Page } from '../http/pagination';
import type { OrganizationBody, OrganizationListBody, OrganizationStatusBody } from './organizations.responses';

/**
 * The organization is rendered in libs/common, since webhooks carry it too. This compiles only
 * while the `Organization` schema describes exactly that representation: a member added, dropped
 * or retyped on either side fails here.
 */
export type SchemaDescribesRepresentation = MustHold<Same<OrganizationBody, OrganizationRepresentation>>;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type MustHold<T extends true> = T;

export { presentOrganization };

export function presentStatus(org: Organization): OrganizationStatusBody {
  return {
    id: org.id,
    status: org.status,
    step: org.step,
    attempts: org.attempts,
    last_error: org.lastError,
    database_server: org.databaseServer ?? null,
    updated_at: org.updatedAt.toISOString(),
  };
}

export function presentOrganizationPage(page: Page<Organization>): OrganizationListBody {
  return { items: page.items.map(presentOrganization), next_cursor: page.nextCursor };
}

/** One organization as stored, from which the API document's examples are rendered by the presenters above. */
const acme = {
  id: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
  name: 'Acme Corp',
  slug: 'acme-corp',
  externalId: 'cus_4f0c2a7e',
  metadata: { plan: 'enterprise', crm: 'acct-1042' } as Record<string, string>,
  status: 'pending',
  step: null,
  attempts: 0,
  lastError: null,
  adminEmail: 'owner@acme.test',
  schemaVersion: null,
  databaseServer: 'default',
  databaseRole: 'shared',
  deletedAt: null,
  purgeAfter: null,
  createdAt: new Date('2026-11-21T21:13:17.815Z'),
  updatedAt: new Date('2026-11-21T21:13:17.815Z'),
} as Organization;

/** The document's examples of an organization (components.examples), so they cannot drift from the answers. */
export const organizationExamples = {
  PendingOrganization: presentOrganization(acme),
  MovingOrganization: presentOrganization({
    ...acme,
    status: 'moving',
    schemaVersion: 'AddUserLastLogin1732300000000',
    databaseRole: 'own',
    updatedAt: new Date('2026-11-22T08:01:02.345Z'),
  }),
  ProvisioningStatus: presentStatus({ ...acme, status: 'provisioning', step: 'migrate', attempts: 1, updatedAt: new Date('2026-11-21T21:13:17.900Z') }),
  EmptyOrganizationPage: presentOrganizationPage({ items: [], nextCursor: null }),
};
