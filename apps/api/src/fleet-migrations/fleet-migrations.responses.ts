import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { dateTime, nextCursor, nullableDateTime, uuid } from '../openapi/shapes';

/** The shared part of a tracked run over many organizations (fleet migrations, drains). */
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

const migrationRunProperties = {
  id: uuid,
  status: runStatus,
  target_version: { type: 'string', description: 'The tenant migration every database is brought to.', examples: ['AddUserLastLogin1732300000000'] },
  template: { type: ['string', 'null'], description: 'What happened to the template database.', examples: ['template migrated'] },
  ...runCounts,
  ...runTimes,
} as const;

const migrationRunSummaryRequired = [...runRequired, 'target_version', 'template'] as const;

export const migrationRunSummary = {
  type: 'object',
  description: 'A fleet migration run with its totals.',
  additionalProperties: false,
  required: migrationRunSummaryRequired,
  properties: migrationRunProperties,
} as const satisfies JSONSchema;

export const migrationRun = {
  type: 'object',
  description: 'A fleet migration run: totals, progress and each organization that failed.',
  additionalProperties: false,
  required: [...migrationRunSummaryRequired, 'failures'],
  properties: { ...migrationRunProperties, failures: runFailures },
} as const satisfies JSONSchema;

export const migrationRunList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: migrationRunSummary }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export const serverDrain = {
  type: 'object',
  description: 'A drain of one database server: every organization active on it when it started, moved elsewhere one at a time.',
  additionalProperties: false,
  required: [...runRequired, 'server_id', 'failures'],
  properties: {
    id: uuid,
    server_id: uuid,
    status: runStatus,
    ...runCounts,
    total: { ...runCounts.total, description: 'Organizations the drain covers.', examples: [12] },
    succeeded: { ...runCounts.succeeded, description: 'Moved to another server.', examples: [11] },
    failed: { ...runCounts.failed, description: 'Their move failed and was rolled back: still on this server, active.' },
    skipped: { ...runCounts.skipped, description: 'No longer active on this server when their turn came.' },
    failures: runFailures,
    ...runTimes,
  },
} as const satisfies JSONSchema;

export type MigrationRunSummaryBody = FromSchema<typeof migrationRunSummary>;
export type MigrationRunBody = FromSchema<typeof migrationRun>;
export type MigrationRunListBody = FromSchema<typeof migrationRunList>;
export type ServerDrainBody = FromSchema<typeof serverDrain>;
