import { ValidationError } from '@orgms/common/errors';
import { METADATA_KEY, METADATA_LIMITS, metadataBytes, type OrganizationMetadata } from '@orgms/common/organizations/organization-metadata';
import { ORGANIZATION_SORTS, type OrganizationSort } from '@orgms/common/organizations/organization-search';
import { ORGANIZATION_STATUSES, type OrganizationStatus } from '@orgms/common/organizations/organization-status';
import type { Request } from 'express';
import Joi from 'joi';
import { databaseServerName } from '../fleet/database-servers.schemas';
import { email, organizationName, type Page, paginationQuery, password, requestShape, uuid } from '../http/common.schemas';

/** A billing or CRM system's id: safe characters only, so it can go in URLs, logs and file names as it is. */
export const externalId = Joi.string()
  .max(128)
  .pattern(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/)
  .messages({ 'string.pattern.base': '{{#label}} must be letters, digits and _ . : - (starting with a letter or digit)' })
  .example('cus_4f0c2a7e');

export const EXTERNAL_ID_RULES =
  "A billing or CRM system's id for the organization: 1–128 letters, digits and `_ . : -`; unique among organizations that are not purged (409 otherwise).";

/** No control characters nor lone surrogates: PostgreSQL's jsonb refuses NUL and unpaired surrogates (which would be a 500). */
const metadataValue = Joi.string()
  .allow('')
  .max(METADATA_LIMITS.valueLength)
  .pattern(/^[^\p{Cc}\p{Cs}]*$/u)
  .messages({ 'string.pattern.base': 'metadata values must not contain control characters' });

export const METADATA_RULES =
  `At most ${METADATA_LIMITS.keys} keys of 1–${METADATA_LIMITS.keyLength} letters, digits and \`_ . : -\`, ` +
  `string values of at most ${METADATA_LIMITS.valueLength} characters (no control characters), ${METADATA_LIMITS.totalBytes} bytes in all as JSON.`;

/** The map as a whole (creation): the total is checked here; a PATCH's merged map is checked by the store. */
export const organizationMetadata = Joi.object()
  .pattern(METADATA_KEY, metadataValue)
  .max(METADATA_LIMITS.keys)
  .custom((value: OrganizationMetadata, helpers) =>
    metadataBytes(value) > METADATA_LIMITS.totalBytes ? helpers.error('object.metadataBytes', { limit: METADATA_LIMITS.totalBytes }) : value,
  )
  .messages({ 'object.metadataBytes': '{#label} must take at most {#limit} bytes as JSON' })
  .example({ plan: 'enterprise', crm: 'acct-1042' });

/** Changes to the map (PATCH, JSON Merge Patch): a string sets its key, null removes it; the merged map must keep the limits. */
export const organizationMetadataChanges = Joi.object()
  .pattern(METADATA_KEY, metadataValue.allow(null))
  .max(METADATA_LIMITS.keys * 2)
  .example({ plan: 'enterprise', trial_ends: null });

export interface NewOrganization {
  organization_name: string;
  email: string;
  password: string;
  database_server?: string;
  external_id?: string;
  metadata?: OrganizationMetadata;
}

export const createOrganizationBody = requestShape<NewOrganization>({
  organization_name: organizationName.required(),
  email: email.required().description("The first admin's email."),
  password: password.required().description("The first admin's password: at least 8 characters, at most 72 bytes in UTF-8."),
  database_server: databaseServerName.description('Platform admins only: the database server to place it on (otherwise the one with the most free capacity).'),
  external_id: externalId.description(`Platform admins only. ${EXTERNAL_ID_RULES}`),
  metadata: organizationMetadata.description(`Platform admins only. String values other systems keep on the organization. ${METADATA_RULES}`),
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

/** An instant to compare creation times with: JavaScript takes years PostgreSQL cannot store (a 500), so the range is bounded. */
const creationInstant = Joi.date()
  .iso()
  .min('1970-01-01T00:00:00Z')
  .max('9999-12-31T23:59:59.999Z')
  .messages({ 'date.min': '{#label} must be in 1970–9999', 'date.max': '{#label} must be in 1970–9999' });

export interface OrganizationFilter extends Page {
  status?: OrganizationStatus;
  name?: string;
  database_server_id?: string;
  external_id?: string;
  created_after?: Date;
  created_before?: Date;
  sort: OrganizationSort;
}

export const listOrganizationsQuery = requestShape<OrganizationFilter>({
  status: organizationStatusName.description('Only organizations in this status.'),
  name: Joi.string()
    .trim()
    .min(1)
    .max(100)
    .pattern(/^[^\p{C}]+$/u)
    .messages({ 'string.pattern.base': 'name must not contain control characters' })
    .description(
      'Only organizations whose name starts with this text as it looks: in any case, full-width or decomposed, or with look-alike letters of other scripts (compared by name key).',
    )
    .example('acme'),
  database_server_id: uuid.description('Only organizations whose database is on this server (`GET /database-servers`).'),
  external_id: externalId.description('Only the organization with this external id (and purged ones that had it).'),
  created_after: creationInstant.description('Only organizations created at or after this instant (ISO 8601).').example('2026-12-01T00:00:00Z'),
  created_before: creationInstant.description('Only organizations created before this instant (ISO 8601).').example('2026-12-06T00:00:00Z'),
  sort: Joi.string()
    .valid(...ORGANIZATION_SORTS)
    .default('-created_at')
    .description(
      'The order: by creation or by name (name key, byte order), `-` first for descending; ties are ordered by id. ' +
        'A cursor belongs to its sort: send the same `sort` with it (another is a 400).',
    ),
  ...paginationQuery,
});
