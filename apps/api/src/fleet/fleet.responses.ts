import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, organizationStatusName, uuid } from '../openapi/shapes';

export const orphan = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'database', 'server', 'org_id', 'status'],
  properties: {
    kind: { type: 'string', enum: ['database_without_organization', 'organization_without_database'] },
    database: { type: 'string', examples: ['org_4f0c2a7e9d1b4c1e8f001234567890ab'] },
    server: { type: 'string', description: 'The database server where the database is, or should be.', examples: ['default'] },
    org_id: uuid,
    status: { description: "The organization's status; null when no organization row owns the database.", oneOf: [organizationStatusName, { type: 'null' }] },
  },
} as const satisfies JSONSchema;

export const orphanList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'unreachable_servers'],
  properties: {
    items: { type: 'array', items: orphan },
    unreachable_servers: { type: 'array', items: { type: 'string' }, description: 'Servers that could not be read: their orphans are unknown.' },
  },
} as const satisfies JSONSchema;

export const databaseServer = {
  type: 'object',
  description: 'A PostgreSQL server of the fleet. URLs are shown with the password masked; credentials are stored encrypted.',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'admin_url',
    'pool_url',
    'capacity',
    'connection_budget',
    'tenant_roles',
    'status',
    'organizations',
    'free_capacity',
    'created_at',
    'updated_at',
  ],
  properties: {
    id: uuid,
    name: { type: 'string', examples: ['pg-b'] },
    admin_url: { type: 'string', examples: ['postgres://orgms:****@10.0.0.12:5432/postgres'] },
    pool_url: { type: ['string', 'null'], examples: ['postgres://orgms:****@10.0.0.12:6432/postgres'] },
    capacity: { type: 'integer', minimum: 0, examples: [500] },
    connection_budget: { type: 'integer', minimum: 1, examples: [40] },
    tenant_roles: {
      type: 'boolean',
      description: 'Whether each organization on it has its own login role; false: they use the admin role (registered so on purpose).',
      examples: [true],
    },
    status: { type: 'string', enum: ['active', 'draining', 'disabled'] },
    organizations: { type: 'integer', minimum: 0, description: 'Organizations it holds now (not deleted; copies being moved in count).', examples: [120] },
    free_capacity: { type: 'integer', minimum: 0, examples: [380] },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const databaseServerList = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: databaseServer } },
} as const satisfies JSONSchema;

export type OrphanBody = FromSchema<typeof orphan>;
export type OrphanListBody = FromSchema<typeof orphanList>;
export type DatabaseServerBody = FromSchema<typeof databaseServer>;
export type DatabaseServerListBody = FromSchema<typeof databaseServerList>;
