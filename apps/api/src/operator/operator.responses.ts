import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

export const health = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { type: 'string', const: 'ok' } },
} as const satisfies JSONSchema;

const checkOutcome = { type: 'string', enum: ['ok', 'unavailable'] } as const;

export const readiness = {
  type: 'object',
  additionalProperties: false,
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'unavailable'] },
    checks: {
      type: 'object',
      additionalProperties: false,
      required: ['postgres', 'redis'],
      properties: { postgres: checkOutcome, redis: checkOutcome },
    },
  },
} as const satisfies JSONSchema;

export type HealthBody = FromSchema<typeof health>;
export type ReadinessBody = FromSchema<typeof readiness>;
