import { CANONICAL_UUID } from '@orgms/common/ids';
import { newPasswordSchema, PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '@orgms/common/sign-in/password-policy';
import Joi from 'joi';

/**
 * A request part's schema and the TypeScript type of the value it produces, written once, side by
 * side (joi has no static inference). Joi's strict schema map makes the compiler check that the
 * keys are exactly `T`'s and that each key's schema kind (string, number, boolean…) matches its
 * type; `T`'s optional members are the ones without `.required()` or `.default()`. The OpenAPI
 * document's request schemas are generated from these same objects (openapi/request-schemas.ts).
 */
export function requestShape<T>(keys: Joi.StrictSchemaMap<T>): Joi.ObjectSchema<T> {
  return Joi.object<T, true>(keys);
}

// The rules shared with the operator commands that record organizations (`org:restore`).
export { email, organizationName } from '@orgms/common/organizations/new-organization-fields';

/** A password being set: the service's one rule (libs/common password-policy.ts), described for the document. */
export const password = newPasswordSchema
  .description(`At least ${PASSWORD_MIN_LENGTH} characters and at most ${PASSWORD_MAX_BYTES} bytes in UTF-8; no composition rules.`)
  .example('correct horse battery');

/** A password being checked, not set: any length up to a bound, so old passwords still log in. */
export const loginPassword = Joi.string().max(1000).example('correct horse battery');

/** An id we issued, in its canonical spelling (libs/common ids.ts); upper case is folded to it. Joi's `guid` takes too many. */
export const uuid = Joi.string()
  .lowercase()
  .pattern(CANONICAL_UUID)
  .messages({ 'string.pattern.base': '{{#label}} must be a UUID (8-4-4-4-12 hexadecimal digits)' })
  .example('4f0c2a7e-9d1b-4c1e-8f00-1234567890ab');

export interface IdParams {
  id: string;
}
export const idParams = requestShape<IdParams>({ id: uuid.required() });

export interface Page {
  limit: number;
  cursor?: string;
}

export const pageLimit = Joi.number().integer().min(1).max(100).default(20).description('Items per page.');
export const pageCursor = Joi.string()
  .max(2000)
  .pattern(/^[A-Za-z0-9_-]+$/)
  .description('`next_cursor` of the previous page.');

export const paginationQuery = { limit: pageLimit, cursor: pageCursor };
