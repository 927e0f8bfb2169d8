import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, uuid } from '../openapi/shapes';

const auditAccount = {
  type: 'object',
  additionalProperties: false,
  required: ['kind', 'id'],
  properties: { kind: { type: 'string', enum: ['platform_admin', 'org_user'] }, id: uuid },
} as const;

export const auditEntry = {
  type: 'object',
  description: 'Who did what, when: an entry of the audit log. It never holds a password, a token or a hash.',
  additionalProperties: false,
  required: ['id', 'at', 'actor', 'organization_id', 'action', 'target', 'request_id', 'details'],
  properties: {
    id: uuid,
    at: dateTime,
    actor: { description: 'Who acted; null for an anonymous caller (a failed login).', anyOf: [auditAccount, { type: 'null' }] },
    organization_id: { type: ['string', 'null'], format: 'uuid', description: 'The organization concerned, if any.' },
    action: { type: 'string', examples: ['auth.login.failed'] },
    target: {
      description: 'What it was done to, if anything.',
      anyOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'id'],
          properties: { type: { type: 'string', examples: ['user'] }, id: { type: 'string', examples: ['7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d'] } },
        },
        { type: 'null' },
      ],
    },
    request_id: { type: ['string', 'null'], description: 'The `X-Request-Id` of the request that did it.' },
    details: { type: 'object', description: 'What changed (before and after), or the client address of a login.', additionalProperties: true },
  },
} as const satisfies JSONSchema;

export const auditEntryList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: auditEntry }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export type AuditEntryBody = FromSchema<typeof auditEntry>;
export type AuditEntryListBody = FromSchema<typeof auditEntryList>;
