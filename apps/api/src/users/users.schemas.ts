import { USER_ROLES, type UserRole } from '@orgms/common/users/tenant-user.entity';
import Joi from 'joi';
import { email, loginPassword, organizationName, type Page, paginationQuery, password, requestShape, uuid } from '../http/common.schemas';

export interface UserParams {
  id: string;
  userId: string;
}
export const userParams = requestShape<UserParams>({ id: uuid.required(), userId: uuid.required() });

export const userRole = Joi.string().valid(...USER_ROLES);

export interface NewUser {
  email: string;
  password: string;
  role: UserRole;
  is_active: boolean;
}

export const createUserBody = requestShape<NewUser>({
  email: email.required().example('alice@acme.test'),
  password: password.required(),
  role: userRole.default('member'),
  is_active: Joi.boolean().default(true),
});

export interface UserChanges {
  role?: UserRole;
  is_active?: boolean;
  password?: string;
}

/** At least one change; a new password, a role change or a deactivation revokes the user's earlier tokens. */
export const updateUserBody = requestShape<UserChanges>({
  role: userRole,
  is_active: Joi.boolean(),
  password,
}).min(1);

export const listUsersQuery = requestShape<Page>({ ...paginationQuery });

export interface OrganizationLogin {
  organization_name?: string;
  organization_id?: string;
  email: string;
  password: string;
}

/**
 * Org user login: the organization by name or id (the seed services sent the name as a query
 * parameter; both places are accepted, but only one organization may be named).
 */
export const orgLoginBody = requestShape<OrganizationLogin>({
  organization_name: organizationName,
  organization_id: uuid,
  email: email.required(),
  password: loginPassword.required(),
}).oxor('organization_name', 'organization_id');

export interface OrganizationNameFilter {
  organization_name?: string;
}

export const orgLoginQuery = requestShape<OrganizationNameFilter>({ organization_name: organizationName });
