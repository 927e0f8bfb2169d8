import type { OrganizationMetadataChanges } from '@orgms/common/organizations/organization-metadata';
import Joi from 'joi';
import { email, organizationName, type Page, paginationQuery, requestShape } from '../http/common.schemas';
import { EXTERNAL_ID_RULES, externalId, METADATA_RULES, organizationMetadataChanges } from './organizations.schemas';

export interface OrganizationChanges {
  organization_name?: string;
  email?: string;
  external_id?: string | null;
  metadata?: OrganizationMetadataChanges;
}

/** PATCH /organizations/:id: at least one field; everything else (status, database) is refused. */
export const updateOrganizationBody = requestShape<OrganizationChanges>({
  organization_name: organizationName,
  email: email.description("The admin contact's email."),
  external_id: externalId.allow(null).description(`Platform admins only; null removes it. ${EXTERNAL_ID_RULES}`),
  metadata: organizationMetadataChanges.description(
    `Platform admins only. Merged into the current map: a string sets its key, \`null\` removes it, keys not sent stay. The resulting map: ${METADATA_RULES}`,
  ),
})
  .or('organization_name', 'email', 'external_id', 'metadata')
  .messages({ 'object.missing': 'send at least one of organization_name, email, external_id, metadata' });

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
