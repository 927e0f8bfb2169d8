import Joi from 'joi';
import { email, organizationName, type Page, paginationQuery, requestShape } from '../http/common.schemas';

export interface OrganizationChanges {
  organization_name?: string;
  email?: string;
}

/** PATCH /organizations/:id: at least one of the two; everything else (status, database) is refused. */
export const updateOrganizationBody = requestShape<OrganizationChanges>({
  organization_name: organizationName,
  email: email.description("The admin contact's email."),
})
  .or('organization_name', 'email')
  .messages({ 'object.missing': 'send organization_name, email or both' });

export { idParams as migrationRunParams } from '../http/common.schemas';

export const listMigrationRunsQuery = requestShape<Page>({ ...paginationQuery });

export interface DeleteOrganizationQuery {
  purge: boolean;
}

/** DELETE /organizations/:id: `?purge=true` (platform admins) archives and drops the database now instead of after the grace period. */
export const deleteOrganizationQuery = requestShape<DeleteOrganizationQuery>({
  purge: Joi.boolean().truthy('1').falsy('0').default(false).description('Archive and drop the database now (platform admins only).'),
});

export interface RestoreOrganization {
  organization_name?: string;
}

/** POST /organizations/:id/restore: an optional new name, for when its name was taken since it was deleted. */
export const restoreOrganizationBody = requestShape<RestoreOrganization>({
  organization_name: organizationName.description('A new name, needed only when its old one has been taken since it was deleted.'),
});
