import Joi from 'joi';
import { email, organizationName, paginationQuery } from './common.schemas';
import { createUserBody } from './users.schemas';

/** The seed services named organizations by name, in the query string or the body. */
export const organizationNameQuery = Joi.object({ organization_name: organizationName });

export const organizationNameBody = Joi.object({ organization_name: organizationName });

export const compatListQuery = Joi.object({ organization_name: organizationName, ...paginationQuery });

export const compatCreateUserBody = createUserBody.keys({ organization_name: organizationName });

/** `PUT /org/update`: the organization by its current name, then what changes. */
export const compatUpdateBody = Joi.object({
  organization_name: organizationName.required(),
  new_organization_name: organizationName,
  email,
}).or('new_organization_name', 'email');
