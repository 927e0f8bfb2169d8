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
