import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, organizationStatusName, uuid } from '../openapi/shapes';
import { organization } from '../organizations/organizations.responses';
import { user } from '../users/users.responses';

export const platformAdmin = {
  type: 'object',
  description: 'A platform admin.',
  additionalProperties: false,
  required: ['id', 'email', 'role', 'created_at'],
  properties: {
    id: uuid,
    email: { type: 'string', format: 'email', examples: ['admin@example.com'] },
    role: { type: 'string', const: 'platform_admin' },
    created_at: dateTime,
  },
} as const satisfies JSONSchema;

/** The platform admin a token was issued to (`POST /auth/login`). */
export const platformAdminIdentity = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'email', 'role'],
  properties: { id: uuid, email: platformAdmin.properties.email, role: platformAdmin.properties.role },
} as const satisfies JSONSchema;

export const token = {
  type: 'object',
  description: 'A bearer token and the refresh token that renews it (OAuth 2.0 token response style), and who they were issued to.',
  additionalProperties: false,
  required: ['access_token', 'token_type', 'expires_in', 'refresh_token', 'refresh_expires_in', 'user'],
  properties: {
    access_token: {
      type: 'string',
      description: 'A JWT; send it as `Authorization: Bearer <access_token>`.',
      examples: ['eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…'],
    },
    token_type: { type: 'string', const: 'bearer' },
    expires_in: { type: 'integer', minimum: 1, description: 'Seconds until the access token expires.', examples: [900] },
    refresh_token: {
      type: 'string',
      description: 'Opaque; trade it once at `POST /auth/refresh` for a new pair, end the session with `POST /auth/logout`.',
      examples: ['q3Xh0m9pB1d2Vx7yZ4kLw8sT6uR5eN0aC3fG1hJ2iK4'],
    },
    refresh_expires_in: { type: 'integer', minimum: 1, description: 'Seconds until the refresh token expires.', examples: [2592000] },
    user: { description: 'The platform admin (`POST /auth/login`) or the organization user (`POST /admin/login`).', oneOf: [platformAdminIdentity, user] },
  },
} as const satisfies JSONSchema;

/** `GET /me` of an organization user: the user and its organization. */
export const organizationUserSelf = {
  type: 'object',
  additionalProperties: false,
  required: [...user.required, 'organization'],
  properties: {
    ...user.properties,
    organization: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'status'],
      properties: { id: uuid, name: organization.properties.name, status: organizationStatusName },
    },
  },
} as const satisfies JSONSchema;

export const currentUser = { oneOf: [platformAdmin, organizationUserSelf] } as const satisfies JSONSchema;

export type PlatformAdminBody = FromSchema<typeof platformAdmin>;
export type TokenBody = FromSchema<typeof token>;
export type OrganizationUserSelfBody = FromSchema<typeof organizationUserSelf>;
