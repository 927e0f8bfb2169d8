import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, nullableDateTime, organizationStatusName, uuid } from '../openapi/shapes';

const databaseServerName = {
  type: ['string', 'null'],
  description: 'The name of the database server holding its database (null only before one is chosen).',
  examples: ['default'],
} as const;

export const organization = {
  type: 'object',
  description: 'An organization (no database name, no hashes).',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'slug',
    'external_id',
    'metadata',
    'status',
    'step',
    'last_error',
    'admin_email',
    'schema_version',
    'database_server',
    'database_role',
    'deleted_at',
    'purge_after',
    'created_at',
    'updated_at',
  ],
  properties: {
    id: uuid,
    name: { type: 'string', examples: ['Acme Corp'] },
    slug: { type: 'string', examples: ['acme-corp'] },
    external_id: {
      type: ['string', 'null'],
      description: "A billing or CRM system's id for it, set by a platform admin; unique among organizations that are not purged.",
      examples: ['cus_4f0c2a7e'],
    },
    metadata: {
      type: 'object',
      description: 'A small map of strings that other systems keep on it, set by a platform admin (docs/api/organizations.md).',
      additionalProperties: { type: 'string' },
      examples: [{ plan: 'enterprise', crm: 'acct-1042' }],
    },
    status: organizationStatusName,
    step: { type: ['string', 'null'], description: 'The provisioning step running or last run.', examples: ['activate'] },
    last_error: { type: ['string', 'null'], description: 'Why the last attempt failed, in plain words.' },
    admin_email: { type: 'string', format: 'email', examples: ['owner@acme.test'] },
    schema_version: { type: ['string', 'null'], description: 'Newest tenant migration applied to its database.', examples: ['CreateUsers1732200000000'] },
    database_server: databaseServerName,
    database_role: {
      type: 'string',
      enum: ['own', 'shared'],
      description:
        '`own`: its database is owned by, and reached only as, its own login role. `shared`: reached as the service role ' +
        '(before provisioning made its role, an organization from before roles until a fleet run gives it one, or a server registered with `tenant_roles: false`).',
      examples: ['own'],
    },
    deleted_at: { ...nullableDateTime, description: 'When it was deleted; null unless `deleted`, `purging` or `purged`.' },
    purge_after: {
      ...nullableDateTime,
      description:
        'While `deleted`: when the grace period ends and its database is archived and dropped. Until then `POST /organizations/{id}/restore` brings it back.',
    },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const organizationStatus = {
  type: 'object',
  description: "An organization's provisioning status: a small answer for polling.",
  additionalProperties: false,
  required: ['id', 'status', 'step', 'attempts', 'last_error', 'database_server', 'updated_at'],
  properties: {
    id: uuid,
    status: organizationStatusName,
    step: { type: ['string', 'null'], examples: ['migrate'] },
    attempts: { type: 'integer', minimum: 0, examples: [1] },
    last_error: { type: ['string', 'null'] },
    database_server: databaseServerName,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const organizationList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: organization }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export type OrganizationBody = FromSchema<typeof organization>;
export type OrganizationStatusBody = FromSchema<typeof organizationStatus>;
export type OrganizationListBody = FromSchema<typeof organizationList>;
