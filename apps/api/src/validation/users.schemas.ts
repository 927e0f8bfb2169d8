import { USER_ROLES } from '@orgms/common';
import Joi from 'joi';
import { email, organizationName, paginationQuery, password, uuid } from './common.schemas';

export const userParams = Joi.object({ id: uuid.required(), userId: uuid.required() });

export const createUserBody = Joi.object({
  email: email.required(),
  password: password.required(),
  role: Joi.string()
    .valid(...USER_ROLES)
    .default('member'),
  is_active: Joi.boolean().default(true),
});

export const updateUserBody = Joi.object({
  role: Joi.string().valid(...USER_ROLES),
  is_active: Joi.boolean(),
  password,
}).min(1);

export const listUsersQuery = Joi.object({ ...paginationQuery });

/**
 * Org user login: the organization by name or id (the seed services sent the name as a query
 * parameter; both places are accepted, but only one organization may be named).
 */
export const orgLoginBody = Joi.object({
  organization_name: organizationName,
  organization_id: uuid,
  email: email.required(),
  password: Joi.string().max(1000).required(),
}).oxor('organization_name', 'organization_id');

export const orgLoginQuery = Joi.object({ organization_name: organizationName });
