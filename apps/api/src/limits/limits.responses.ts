import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { runCounts, runFailures, runRequired, runStatus, runTimes } from '../fleet-migrations/fleet-migrations.responses';
import { uuid } from '../openapi/shapes';

/** A run setting every active organization's database limits on its role (POST /database-limits/runs). */
export const databaseLimitsRun = {
  type: 'object',
  description: "A run setting every active organization's database limits (the defaults with its overrides) on its database role.",
  additionalProperties: false,
  required: [...runRequired, 'failures'],
  properties: {
    id: uuid,
    status: runStatus,
    ...runCounts,
    total: { ...runCounts.total, description: 'Organizations active when the run started.', examples: [20] },
    succeeded: { ...runCounts.succeeded, description: 'Their role has the limits now.', examples: [19] },
    skipped: {
      ...runCounts.skipped,
      description: 'No longer active, or on a server without organization roles (they share its role: no per-organization limits).',
    },
    failures: runFailures,
    ...runTimes,
  },
} as const satisfies JSONSchema;

export type DatabaseLimitsRunBody = FromSchema<typeof databaseLimitsRun>;

const count = { type: 'integer', minimum: 0 } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;

const requestClassUsage = {
  type: 'object',
  additionalProperties: false,
  required: ['limit', 'used'],
  properties: {
    limit: { type: 'integer', minimum: 1, description: 'Requests allowed per window.', examples: [6000] },
    used: { type: ['integer', 'null'], minimum: 0, description: 'Requests counted in the current window; null when not known.', examples: [42] },
  },
} as const satisfies JSONSchema;

const databaseLimits = {
  type: 'object',
  description: "The limits of the organization's own database role.",
  additionalProperties: false,
  required: ['connection_limit', 'statement_timeout_ms', 'idle_in_transaction_timeout_ms', 'temp_file_limit_kb'],
  properties: {
    connection_limit: { type: 'integer', minimum: 1, examples: [10] },
    statement_timeout_ms: { type: 'integer', minimum: 0, description: '`0`: none.', examples: [30000] },
    idle_in_transaction_timeout_ms: { type: 'integer', minimum: 0, description: '`0`: none.', examples: [60000] },
    temp_file_limit_kb: { type: 'integer', minimum: -1, description: '`-1`: none.', examples: [1048576] },
  },
} as const satisfies JSONSchema;

const positive = { type: 'integer', minimum: 1 } as const;

/** The overrides that are set, by the names of the PATCH body; a missing member has the default. */
const overrides = {
  type: 'object',
  description: 'The overrides set for this organization (what `PATCH` changes); a missing member has the configured default.',
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: false, properties: { reads: positive, writes: positive, expensive: positive } },
    database: { type: 'object', additionalProperties: false, properties: databaseLimits.properties },
    quotas: { type: 'object', additionalProperties: false, properties: { users: positive, database_bytes: positive } },
  },
} as const satisfies JSONSchema;

export const organizationLimits = {
  type: 'object',
  description: 'The limits that apply to an organization (the defaults with its overrides on top) and what it uses of them.',
  additionalProperties: false,
  required: ['organization_id', 'window_seconds', 'requests', 'database', 'quotas', 'over_quota', 'over_quota_since', 'overrides'],
  properties: {
    organization_id: { type: 'string', format: 'uuid', examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab'] },
    window_seconds: { type: 'integer', minimum: 1, description: 'The window the request limits count in (RATE_LIMIT_WINDOW_MS).', examples: [60] },
    requests: {
      type: 'object',
      description: 'Requests per window by class, all API replicas together.',
      additionalProperties: false,
      required: ['reads', 'writes', 'expensive'],
      properties: { reads: requestClassUsage, writes: requestClassUsage, expensive: requestClassUsage },
    },
    database: databaseLimits,
    quotas: {
      type: 'object',
      additionalProperties: false,
      required: ['users', 'database_bytes'],
      properties: {
        users: {
          type: 'object',
          additionalProperties: false,
          required: ['limit', 'usage'],
          properties: {
            limit: { type: 'integer', minimum: 1, examples: [100000] },
            usage: { ...count, type: ['integer', 'null'], description: 'Its users now; null while its database does not serve.', examples: [12] },
          },
        },
        database_bytes: {
          type: 'object',
          additionalProperties: false,
          required: ['limit', 'usage', 'sampled_at'],
          properties: {
            limit: { type: 'integer', minimum: 1, examples: [1073741824] },
            usage: { ...count, type: ['integer', 'null'], description: 'Its database size at the last sample; null before the first.', examples: [8204835] },
            sampled_at: { ...nullableDateTime, description: 'When the quota sweep sampled it (every QUOTA_SWEEP_INTERVAL_MS).' },
          },
        },
      },
    },
    over_quota: { type: 'boolean', description: 'Whether it is past a quota now: writes that would grow it answer 403 `quota-exceeded`.' },
    over_quota_since: { ...nullableDateTime, description: 'Since when the quota sweep has found its database over its quota.' },
    overrides,
  },
} as const satisfies JSONSchema;

/**
 * A 403: the role may not do this (`forbidden`), or (`quota-exceeded`) the write would grow the
 * organization past a quota, named with its limit and usage. The problem members are those of
 * `Problem` (response-schemas.ts), written out here so the two files do not import each other.
 */
export const quotaExceededProblem = {
  type: 'object',
  description: 'A 403: `forbidden` (the role may not do this), or `quota-exceeded` with the quota, its limit and the usage.',
  additionalProperties: false,
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri', examples: ['https://orgms.dev/problems/quota-exceeded'] },
    title: { type: 'string', examples: ['Quota exceeded'] },
    status: { type: 'integer', minimum: 400, maximum: 599, examples: [403] },
    detail: { type: 'string', examples: ['This organization has 100 users, its quota; remove one or ask for a higher quota.'] },
    requestId: { type: 'string', examples: ['0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980'] },
    quota: { type: 'string', enum: ['users', 'database_bytes'], description: 'The quota reached.' },
    limit: { type: 'integer', minimum: 1, examples: [100] },
    usage: { type: 'integer', minimum: 0, examples: [100] },
  },
} as const satisfies JSONSchema;

export type OrganizationLimitsBody = FromSchema<typeof organizationLimits>;
