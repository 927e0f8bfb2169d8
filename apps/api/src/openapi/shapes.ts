import { BACKUP_STATUSES, EXPORT_STATUSES } from '@orgms/common/data-safety/organization-dump-store';
import { REQUEST_CLASSES } from '@orgms/common/limits/organization-limits';
import { ORGANIZATION_STATUSES } from '@orgms/common/organizations/organization-status';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * The pieces every capability's answers share (ids, times, the page cursor, the organization
 * status) and the problem shapes. A capability's own answers live in its folder's
 * `<capability>.responses.ts`; openapi/response-schemas.ts names them for the document.
 */

export const uuid = { type: 'string', format: 'uuid', examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab'] } as const;
export const dateTime = { type: 'string', format: 'date-time', examples: ['2026-11-21T21:13:17.815Z'] } as const;
export const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
export const nextCursor = {
  type: ['string', 'null'],
  description: 'Pass as `cursor` for the next page; null on the last page.',
  examples: ['MjAyNi0xMS0yMVQyMToxMzoxNy44MTVa'],
} as const;

/** Shared: organizations, users' `GET /me`, orphans and the 409 problem all name an organization's status. */
export const organizationStatusName = { type: 'string', enum: ORGANIZATION_STATUSES } as const satisfies JSONSchema;

const problemProperties = {
  type: { type: 'string', format: 'uri', description: 'Stable per kind of problem.', examples: ['https://orgms.dev/problems/not-found'] },
  title: { type: 'string', examples: ['Not found'] },
  status: { type: 'integer', minimum: 400, maximum: 599, examples: [404] },
  detail: { type: 'string', examples: ['No such organization.'] },
  requestId: {
    type: 'string',
    description: 'Quote it when reporting a problem; it is in every log line of the request.',
    examples: ['0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980'],
  },
} as const;

/** Answers that Node's HTTP parser writes before Express runs (clientError) carry no requestId. */
const problemRequired = ['type', 'title', 'status', 'detail'] as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details. Never contains stack traces, SQL or driver messages.',
  additionalProperties: false,
  required: problemRequired,
  properties: problemProperties,
} as const satisfies JSONSchema;

export const fieldError = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'message'],
  properties: {
    field: { type: 'string', description: 'The request part and path of the field.', examples: ['body.password'] },
    message: { type: 'string', examples: ['password length must be at least 8 characters long'] },
  },
} as const satisfies JSONSchema;

export const validationProblem = {
  type: 'object',
  description: 'A 400: the problem, and for a request that failed validation, each failing field (absent for unreadable bodies).',
  additionalProperties: false,
  required: problemRequired,
  properties: { ...problemProperties, errors: { type: 'array', items: fieldError } },
} as const satisfies JSONSchema;

export const conflictProblem = {
  type: 'object',
  description:
    'A 409. `organization_status`: the organization is not active, so what needs it waits (its users, its users routes, logins). ' +
    '`current_status`: the organization is in a status from which this change is not allowed. ' +
    '`export_id`, `export_url`: the export already queued or running (one export per organization at a time). ' +
    '`backup_id`, `backup_url`: the backup already queued or running (one backup per organization at a time). ' +
    '`backup_status`: the backup is not verified, so it cannot be restored. ' +
    '`field`: the request field whose value another organization already has (`external_id`).',
  additionalProperties: false,
  required: problemRequired,
  properties: {
    ...problemProperties,
    organization_status: organizationStatusName,
    current_status: organizationStatusName,
    field: { type: 'string', description: 'The field whose value is taken.', examples: ['external_id'] },
    export_status: { type: 'string', enum: EXPORT_STATUSES, description: 'The export is not ready (download).' },
    backup_status: { type: 'string', enum: BACKUP_STATUSES, description: 'The backup is not verified (restore).' },
    backup_id: { ...uuid, description: 'The backup of this organization that is queued or running (a new backup waits for it).' },
    backup_url: {
      type: 'string',
      description: 'Where that backup is read, as in the `Location` of its 202.',
      examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/backups/5e4d3c2b-1a09-4f8e-8d7c-6b5a4f3e2d1c'],
    },
    export_id: { ...uuid, description: 'The export of this organization that is queued or running (a new export waits for it).' },
    export_url: {
      type: 'string',
      description: 'Where that export is read, as in the `Location` of its 202.',
      examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/exports/3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a'],
    },
  },
} as const satisfies JSONSchema;

export const tooManyRequestsProblem = {
  type: 'object',
  description: 'A 429. `rate_limit`: the request rate that was exceeded (absent when a login or self-signup throttle refused).',
  additionalProperties: false,
  required: problemRequired,
  properties: {
    ...problemProperties,
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      required: ['class', 'scope', 'limit', 'window_seconds'],
      properties: {
        class: { type: 'string', enum: REQUEST_CLASSES, description: 'The class the request counted in.' },
        scope: {
          type: 'string',
          enum: ['organization', 'platform_admin'],
          description: "Whose requests count together: the organization's users, or this platform admin.",
        },
        limit: { type: 'integer', minimum: 1, description: 'Requests of that class per window.', examples: [6000] },
        window_seconds: { type: 'integer', minimum: 1, examples: [60] },
      },
    },
  },
} as const satisfies JSONSchema;

export type ProblemBody = FromSchema<typeof problem>;
