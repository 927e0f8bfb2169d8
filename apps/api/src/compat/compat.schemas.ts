import { email, organizationName, type Page, paginationQuery, requestShape } from '../http/common.schemas';
import { createUserBody, type NewUser, type OrganizationNameFilter } from '../users/users.schemas';

/** The seed services named organizations by name, in the query string or the body. */
export const organizationNameQuery = requestShape<OrganizationNameFilter>({ organization_name: organizationName });

export const organizationNameBody = requestShape<OrganizationNameFilter>({ organization_name: organizationName });

export interface CompatListFilter extends Page, OrganizationNameFilter {}

export const compatListQuery = requestShape<CompatListFilter>({ organization_name: organizationName, ...paginationQuery });

export interface CompatNewUser extends NewUser, OrganizationNameFilter {}

export const compatCreateUserBody = createUserBody.append<CompatNewUser>({
  organization_name: organizationName.description('The organization, for platform admins; organization admins may leave it out.'),
});

export interface CompatOrganizationChanges {
  organization_name: string;
  new_organization_name?: string;
  email?: string;
}

/** `PUT /org/update`: the organization by its current name, then what changes. */
export const compatUpdateBody = requestShape<CompatOrganizationChanges>({
  organization_name: organizationName.required(),
  new_organization_name: organizationName,
  email,
}).or('new_organization_name', 'email');
