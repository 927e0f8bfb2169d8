import type { JSONSchema } from 'json-schema-to-ts';

/**
 * The pieces every tracked run's answer shares (fleet migrations, drains, database limits), and
 * the primitives they use: apart from response-schemas.ts so that capability files may build on
 * them without importing the map that imports them.
 */
export const uuid = { type: 'string', format: 'uuid', examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab'] } as const;
export const dateTime = { type: 'string', format: 'date-time', examples: ['2026-11-21T21:13:17.815Z'] } as const;
export const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const runCounts = {
  total: { type: 'integer', minimum: 0, description: 'Organizations the run covers.', examples: [20] },
  succeeded: { type: 'integer', minimum: 0, examples: [19] },
  failed: { type: 'integer', minimum: 0, examples: [1] },
  skipped: { type: 'integer', minimum: 0, examples: [0] },
  pending: { type: 'integer', minimum: 0, examples: [0] },
  progress: { type: 'number', minimum: 0, maximum: 1, description: 'Share of organizations done (0 while queued).', examples: [1] },
} as const;

export const runStatus = { type: 'string', enum: ['queued', 'running', 'completed'] } as const;

export const runTimes = { created_at: dateTime, started_at: nullableDateTime, finished_at: nullableDateTime } as const;

export const runRequired = [
  'id',
  'status',
  'total',
  'succeeded',
  'failed',
  'skipped',
  'pending',
  'progress',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export const runFailure = {
  type: 'object',
  description: 'An organization whose part of a run failed for good.',
  additionalProperties: false,
  required: ['org_id', 'error', 'finished_at'],
  properties: {
    org_id: uuid,
    error: { type: ['string', 'null'], examples: ['migrate: unexpected error (SQLSTATE 42701); see the worker log'] },
    finished_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const runFailures = { type: 'array', items: runFailure } as const;
