import { ORGANIZATION_STATUSES } from '@orgms/common';
import Joi from 'joi';
import { email, organizationName, paginationQuery, password } from './common.schemas';

export const createOrganizationBody = Joi.object({
  organization_name: organizationName.required(),
  email: email.required(),
  password: password.required(),
});

export const listOrganizationsQuery = Joi.object({
  status: Joi.string().valid(...ORGANIZATION_STATUSES),
  ...paginationQuery,
});
