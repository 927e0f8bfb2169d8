import { USER_ROLES } from '@orgms/common/users/tenant-user.entity';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, nullableDateTime, uuid } from '../openapi/shapes';

export const user = {
  type: 'object',
  description: 'A user of one organization (never its password hash).',
  additionalProperties: false,
  required: ['id', 'organization_id', 'email', 'role', 'is_active', 'last_login_at', 'created_at', 'updated_at'],
  properties: {
    id: uuid,
    organization_id: uuid,
    email: { type: 'string', format: 'email', examples: ['alice@acme.test'] },
    role: { type: 'string', enum: USER_ROLES },
    is_active: { type: 'boolean' },
    last_login_at: { ...nullableDateTime, description: 'The last successful login; null if never.' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const userList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: user }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export type UserBody = FromSchema<typeof user>;
export type UserListBody = FromSchema<typeof userList>;
