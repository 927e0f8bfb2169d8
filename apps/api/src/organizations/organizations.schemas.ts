import { ValidationError } from '@orgms/common/errors';
import { ORGANIZATION_STATUSES, type OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { Request } from 'express';
import Joi from 'joi';
import { databaseServerName } from '../fleet/database-servers.schemas';
import { email, organizationName, type Page, paginationQuery, password, requestShape } from '../http/common.schemas';

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

/** `Idempotency-Key`: any visible ASCII, 1–255 characters (a UUID is the usual choice). */
export const idempotencyKey = Joi.string()
  .pattern(/^[\x21-\x7e]{1,255}$/)
  .description('Send the same key again (with the same body) to get the same organization instead of a second one; kept 24 h per caller.')
  .example('5c0b1e7a-2f4d-4c8e-9a6b-3d2e1f0a9b8c');

/** The header as a request part, for the OpenAPI document's parameter. */
export const idempotencyHeaders = requestShape<{ 'idempotency-key'?: string }>({ 'idempotency-key': idempotencyKey });

/** The request's Idempotency-Key, checked; undefined when it sent none. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  const { value, error } = idempotencyKey.validate(raw);
  if (error)
    throw new ValidationError('The Idempotency-Key header is not valid.', [
      { field: 'header.idempotency-key', message: 'must be 1–255 visible ASCII characters' },
    ]);
  return value;
}

export interface OrganizationFilter extends Page {
  status?: OrganizationStatus;
}

export const listOrganizationsQuery = requestShape<OrganizationFilter>({
  status: organizationStatusName.description('Only organizations in this status.'),
  ...paginationQuery,
});
