import { email, organizationName, type Page, paginationQuery, requestShape } from './common.schemas';

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

export { idParams as migrationRunParams } from './common.schemas';

export const listMigrationRunsQuery = requestShape<Page>({ ...paginationQuery });
