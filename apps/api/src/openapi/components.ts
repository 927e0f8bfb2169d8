import { auditExamples } from '../audit/audit-entry.presenter';
import { archiveExamples } from '../data-safety/organization-archive.presenter';
import { exportExamples } from '../data-safety/organization-export.presenter';
import { databaseServerExamples } from '../fleet/database-server.presenter';
import { drainExamples } from '../fleet-migrations/tracked-run.presenter';
import { organizationExamples } from '../organizations/organization.presenter';
import { signInExamples } from '../sign-in/sign-in.presenter';
import { webhookDeliveryExamples, webhookExamples } from '../webhooks/webhook.presenter';
import { answerHeaders, answers, requestBodies } from './answers';
import { requestBodySchemas, requestParameters } from './request-schemas';
import { responseSchemas } from './response-schemas';

/**
 * The shared OpenAPI components. Nothing here is written twice: request schemas and parameters
 * are generated from the Joi schemas that validate them, answers come from response-schemas.ts;
 * only the reusable error responses, headers and security schemes are declared here. Route
 * files reference them from their `@openapi` blocks (`$ref: '#/components/...'`).
 */

type Json = Record<string, unknown>;

/**
 * The response shapes as components: a shape nested in another (the same object, e.g. the
 * Organization inside OrganizationList's items) becomes a `$ref`, so each is named once.
 */
function namedResponseSchemas(): Record<string, unknown> {
  const names = new Map<unknown, string>(Object.entries(responseSchemas).map(([name, schema]) => [schema, name]));
  const withRefs = (value: unknown, root: boolean): unknown => {
    if (!root && names.has(value)) return { $ref: `#/components/schemas/${names.get(value)}` };
    if (Array.isArray(value)) return value.map((item) => withRefs(item, false));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withRefs(item, false)]));
    return value;
  };
  return Object.fromEntries(Object.entries(responseSchemas).map(([name, schema]) => [name, withRefs(schema, true)]));
}

const EXAMPLE_REQUEST_ID = '0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980';

/** Sent on every answer to a request whose token was accepted (and counted), so any problem may carry them. */
const rateLimitHeaders = {
  'RateLimit-Policy': { $ref: '#/components/headers/RateLimitPolicy' },
  RateLimit: { $ref: '#/components/headers/RateLimit' },
};

function problemResponse(description: string, schema: string, example: Json & { status: number }, headers?: Json) {
  return {
    description,
    headers: { ...rateLimitHeaders, ...headers },
    content: {
      'application/problem+json': {
        schema: { $ref: `#/components/schemas/${schema}` },
        example: { ...example, type: `https://orgms.dev/problems/${example.type}`, requestId: EXAMPLE_REQUEST_ID },
      },
    },
  };
}

const headers = {
  RetryAfter: {
    required: true,
    description: 'Seconds to wait before asking again.',
    schema: { type: 'integer', minimum: 0, examples: [2] },
  },
  RetryAfterWhileInProgress: {
    description: 'Seconds to wait before polling again; present while the organization is `pending`, `provisioning`, `moving`, `restoring` or `purging`.',
    schema: { type: 'integer', minimum: 0, examples: [2] },
  },
  RateLimitPolicy: {
    description:
      'The request rate that applies to this request (draft-ietf-httpapi-ratelimit-headers): its class, the quota `q` per window of `w` seconds, ' +
      "counted for the caller's organization (organization users) or for the platform admin (docs/api/limits.md). Sent with every answer to a request with a bearer token.",
    schema: { type: 'string', pattern: '^"(reads|writes|expensive)";q=\\d+;w=\\d+$', examples: ['"reads";q=6000;w=60'] },
  },
  RateLimit: {
    description: 'What remains of that quota, `r` requests, until the window ends in `t` seconds. Sent with every answer to a request with a bearer token.',
    schema: { type: 'string', pattern: '^"(reads|writes|expensive)";r=\\d+;t=\\d+$', examples: ['"reads";r=5980;t=12'] },
  },
  PreferenceApplied: {
    description: '`wait=N`, when the request sent `Prefer: wait=N`: the answer was held up to N seconds.',
    schema: { type: 'string', pattern: '^wait=\\d+$', examples: ['wait=10'] },
  },
  OrganizationLocation: {
    required: true,
    description: "The organization's URL.",
    schema: { type: 'string', examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab'] },
  },
  UserLocation: {
    required: true,
    description: "The user's URL.",
    schema: { type: 'string', examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/users/5e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b'] },
  },
  MigrationRunLocation: {
    required: true,
    description: "The run's URL.",
    schema: { type: 'string', examples: ['/migrations/runs/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'] },
  },
  DatabaseLimitsRunLocation: {
    required: true,
    description: "The run's URL.",
    schema: { type: 'string', examples: ['/database-limits/runs/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d'] },
  },
  ServerDrainLocation: {
    required: true,
    description: "The drain's URL.",
    schema: { type: 'string', examples: ['/database-servers/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f/drains/2b3c4d5e-6f70-4a81-9b2c-3d4e5f607182'] },
  },
  ExportLocation: {
    required: true,
    description: "The export's URL.",
    schema: { type: 'string', examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/exports/3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a'] },
  },
  BackupLocation: {
    required: true,
    description: "The backup's URL.",
    schema: { type: 'string', examples: ['/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/backups/5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c'] },
  },
  WebhookLocation: {
    required: true,
    description: "The webhook endpoint's URL.",
    schema: { type: 'string', examples: ['/webhooks/6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d'] },
  },
  DatabaseServerLocation: {
    required: true,
    description: "The server's URL.",
    schema: { type: 'string', examples: ['/database-servers/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f'] },
  },
  BasicChallenge: {
    required: true,
    description: 'A Basic challenge, so a browser asks for an email and password.',
    schema: { type: 'string', examples: ['Basic realm="orgms operators", charset="UTF-8"'] },
  },
  BearerChallenge: {
    required: true,
    description: 'A Bearer challenge: send METRICS_TOKEN as a bearer token.',
    schema: { type: 'string', examples: ['Bearer realm="orgms metrics"'] },
  },
};

const parameters = {
  ...requestParameters(),
  PreferWait: {
    name: 'Prefer',
    in: 'header',
    required: false,
    description: '`wait=N` (N ≤ 30) holds the answer until the status changes or N seconds pass; the answer then carries `Preference-Applied`.',
    schema: { type: 'string', examples: ['wait=10'] },
  },
  LastEventId: {
    name: 'Last-Event-ID',
    in: 'header',
    required: false,
    description: 'Resume after this event id.',
    schema: { type: 'string', examples: ['42'] },
  },
};

const responses = {
  BadRequest: problemResponse(
    'The request is invalid (malformed JSON, a wrong type, an unknown field, a bad parameter); `errors` names each failing field. Nothing was changed.',
    'ValidationProblem',
    {
      type: 'validation-error',
      title: 'Your request is not valid',
      status: 400,
      detail: 'body.password: password length must be at least 8 characters long',
      errors: [{ field: 'body.password', message: 'password length must be at least 8 characters long' }],
    },
  ),
  Unauthorized: problemResponse('No token, or the token is invalid, expired, revoked or for another audience.', 'Problem', {
    type: 'unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'A valid bearer token is required.',
  }),
  LoginFailed: problemResponse('The email or password is not correct (the same answer for an unknown account, and after the same work).', 'Problem', {
    type: 'unauthorized',
    title: 'Unauthorized',
    status: 401,
    detail: 'The email or password is not correct.',
  }),
  RefreshRefused: problemResponse(
    'The refresh token cannot be traded: unknown, expired, revoked (a logout, or a replay of a traded token, which ends every ' +
      'token of its login), already traded, or its account changed password, role or activity or was removed. Also when the ' +
      "organization user's organization was deleted (the delete ended all its sessions for good, so a restore does not bring " +
      'them back) or purged. One answer for all, so it tells nothing about why.',
    'Problem',
    {
      type: 'unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail: 'This refresh token is not valid (expired, revoked or already used); log in again.',
    },
  ),
  RefreshOrganizationNotServing: problemResponse(
    "The organization user's organization exists but does not serve: it is `pending`, `provisioning` or `failed` " +
      '(`organization_status`). The refresh token is not spent: trade it once the organization is active again.',
    'ConflictProblem',
    {
      type: 'conflict',
      title: 'Conflict',
      status: 409,
      detail: 'Organization Acme is failed; its users can log in once it is active.',
      organization_status: 'failed',
    },
  ),
  Forbidden: problemResponse('The token is valid but its role or organization may not do this.', 'Problem', {
    type: 'forbidden',
    title: 'Forbidden',
    status: 403,
    detail: 'You are not allowed to do this.',
  }),
  ForbiddenOrQuotaExceeded: problemResponse(
    'The role may not do this (`forbidden`), or the write would grow the organization past a quota (`quota-exceeded`, with `quota`, `limit` and `usage`).',
    'QuotaExceededProblem',
    {
      type: 'quota-exceeded',
      title: 'Quota exceeded',
      status: 403,
      detail: 'This organization has 100 users, its quota.',
      quota: 'users',
      limit: 100,
      usage: 100,
    },
  ),
  NotFound: problemResponse('No such resource (or not visible to this token).', 'Problem', {
    type: 'not-found',
    title: 'Not found',
    status: 404,
    detail: 'No such organization.',
  }),
  Conflict: problemResponse(
    'The request conflicts with the current state: a taken name, email or external id (`field`), the last admin, an organization that is not active ' +
      '(`organization_status`) or a status change that is not allowed (`current_status`).',
    'ConflictProblem',
    {
      type: 'conflict',
      title: 'Conflict',
      status: 409,
      detail: 'The organization is deleted; its users can use it again once it is active.',
      organization_status: 'deleted',
    },
  ),
  ExportConflict: problemResponse(
    'The organization is not active (`organization_status`), or it has an export queued or running (`export_id`, `export_url`).',
    'ConflictProblem',
    {
      type: 'conflict',
      title: 'Conflict',
      status: 409,
      detail: 'This organization has an export queued or running; one export at a time: follow it, or ask again once it is finished.',
      export_id: '3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
      export_url: '/organizations/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab/exports/3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a',
    },
  ),
  PayloadTooLarge: problemResponse('The body is larger than BODY_LIMIT.', 'Problem', {
    type: 'payload-too-large',
    title: 'Payload too large',
    status: 413,
    detail: 'The request body is larger than the server accepts.',
  }),
  UnprocessableEntity: problemResponse('The Idempotency-Key was already used, within 24 h, with a different request.', 'Problem', {
    type: 'unprocessable-entity',
    title: 'Unprocessable entity',
    status: 422,
    detail: 'This Idempotency-Key was already used with a different request.',
  }),
  Gone: problemResponse('The export has expired; its file is deleted.', 'Problem', {
    type: 'gone',
    title: 'Gone',
    status: 410,
    detail: 'This export has expired and its file is deleted; ask for a new one.',
  }),
  UnsupportedMediaType: problemResponse('The body is not UTF-8 `application/json`.', 'Problem', {
    type: 'unsupported-media-type',
    title: 'Unsupported media type',
    status: 415,
    detail: 'Send the request body as application/json.',
  }),
  TooManyRequests: problemResponse(
    'Too many attempts (logins, self-signups), or over a request rate (then `rate_limit` names it); wait for the number of seconds in Retry-After.',
    'TooManyRequestsProblem',
    { type: 'too-many-requests', title: 'Too many requests', status: 429, detail: 'Too many login attempts; try again later.' },
    { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
  ),
  RateLimited: problemResponse(
    "Over a request rate: the organization's users together, or this platform admin, made more requests of this class in the current window " +
      'than its limit (`rate_limit`; docs/api/limits.md). Nothing was done; retry after Retry-After seconds, when the window ends.',
    'TooManyRequestsProblem',
    {
      type: 'rate-limited',
      title: 'Too many requests',
      status: 429,
      detail: 'Over the limit of 6000 reads per 60 s for this organization; try again in 12 s.',
      rate_limit: { class: 'reads', scope: 'organization', limit: 6000, window_seconds: 60 },
    },
    {
      'Retry-After': { $ref: '#/components/headers/RetryAfter' },
      // Required here: a refusal always tells the limit.
      'RateLimit-Policy': { ...headers.RateLimitPolicy, required: true },
      RateLimit: { ...headers.RateLimit, required: true },
    },
  ),
  RequestHeadTooLarge: problemResponse(
    'The request head (request line and headers) is over 16 KB: answered by the HTTP server before any route runs, so by every path.',
    'Problem',
    { type: 'request-head-too-large', title: 'Request header fields too large', status: 431, detail: 'The request head (URL and headers) is too large.' },
  ),
  ServiceUnavailable: problemResponse(
    'A backing service (PostgreSQL, Redis) is unavailable or did not answer within its bound (`dependency-timeout`: a stalled network), a credential check cannot be counted by the login throttle (`login-throttle-unavailable`), or the control database is not migrated yet; retry after `Retry-After`.',
    'Problem',
    { type: 'service-unavailable', title: 'Service unavailable', status: 503, detail: 'The database is unavailable; try again shortly.' },
    { 'Retry-After': { description: 'Seconds to wait, when the outage is expected to last.', schema: { type: 'integer', minimum: 0, examples: [5] } } },
  ),
  ExportStorageFull: problemResponse(
    'The ready exports use the disk set aside for exports (`export-storage-full`), or a backing service is unavailable; ask again after `Retry-After`.',
    'Problem',
    {
      type: 'export-storage-full',
      title: 'Export storage full',
      status: 503,
      detail: 'The exports waiting to be downloaded use all the disk set aside for exports; ask again once older exports have expired.',
    },
    {
      'Retry-After': {
        description: 'Seconds to wait: until the first ready export expires (`export-storage-full`), or while the outage lasts.',
        schema: { type: 'integer', minimum: 0, examples: [3600] },
      },
    },
  ),
};

/**
 * The problems every API operation may answer by its shape alone (a JSON body, parameters, a
 * token), added by spec.ts to each operation that lists its particular ones in `x-problems`.
 */
export const problemsOfShape = {
  always: ['ServiceUnavailable'],
  validated: ['BadRequest'],
  body: ['PayloadTooLarge', 'UnsupportedMediaType'],
  token: ['Unauthorized', 'RateLimited'],
} satisfies Record<string, (keyof typeof responses)[]>;

/** The HTTP status of each problem response, as its example says. */
export const problemStatus = Object.fromEntries(
  Object.entries(responses).map(([name, response]) => [name, response.content['application/problem+json'].example.status]),
) as Record<keyof typeof responses, number>;

/** Examples rendered by the presenters from their fixtures, named once and referenced by the routes. */
const examples = {
  ...Object.fromEntries(
    Object.entries({
      ...signInExamples,
      ...organizationExamples,
      ...databaseServerExamples,
      ...drainExamples,
      ...webhookExamples,
      ...webhookDeliveryExamples,
      ...exportExamples,
      ...auditExamples,
    }).map(([name, value]) => [name, { value }]),
  ),
  ...archiveExamples,
};

export const components = {
  securitySchemes: {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A token from `POST /auth/login` (platform admin) or `POST /admin/login` (organization user).',
    },
    basicAuth: { type: 'http', scheme: 'basic', description: 'A platform admin email and password (operator pages only).' },
    metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when the deployment sets one (`/metrics` only).' },
  },
  schemas: { ...namedResponseSchemas(), ...requestBodySchemas() },
  parameters,
  headers: { ...headers, ...answerHeaders },
  responses: { ...responses, ...answers },
  requestBodies,
  examples,
};
