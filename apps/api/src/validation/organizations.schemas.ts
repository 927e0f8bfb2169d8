import { ORGANIZATION_STATUSES, type OrganizationStatus } from '@orgms/common/entities/organization-status';
import Joi from 'joi';
import { email, organizationName, type Page, paginationQuery, password, requestShape } from './common.schemas';
import { databaseServerName } from './database-servers.schemas';

export interface NewOrganization {
  organization_name: string;
  email: string;
  password: string;
  database_server?: string;
}

export const createOrganizationBody = requestShape<NewOrganization>({
  organization_name: organizationName.required(),
  email: email.required().description("The first admin's email."),
  password: password.required().description("The first admin's password: at least 8 characters, at most 72 bytes in UTF-8."),
  database_server: databaseServerName.description('Platform admins only: the database server to place it on (otherwise the one with the most free capacity).'),
});

export const organizationStatusName = Joi.string().valid(...ORGANIZATION_STATUSES);

export interface OrganizationFilter extends Page {
  status?: OrganizationStatus;
}

export const listOrganizationsQuery = requestShape<OrganizationFilter>({
  status: organizationStatusName.description('Only organizations in this status.'),
  ...paginationQuery,
});
