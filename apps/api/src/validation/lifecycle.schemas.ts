import Joi from 'joi';
import { email, organizationName, paginationQuery, uuid } from './common.schemas';

/** PATCH /organizations/:id: at least one of the two; everything else (status, database) is refused. */
export const updateOrganizationBody = Joi.object({
  organization_name: organizationName,
  email,
})
  .or('organization_name', 'email')
  .messages({ 'object.missing': 'send organization_name, email or both' });

export const migrationRunParams = Joi.object({ id: uuid.required() });

export const listMigrationRunsQuery = Joi.object({ ...paginationQuery });
