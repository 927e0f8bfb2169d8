import { ARCHIVE_STATUSES } from '@orgms/common/data-safety/organization-archive-store';
import { EXPORT_STATUSES } from '@orgms/common/data-safety/organization-export-store';
import { REQUEST_CLASSES } from '@orgms/common/limits/organization-limits';
import { ORGANIZATION_STATUSES } from '@orgms/common/organizations/organization-status';
import { USER_ROLES } from '@orgms/common/users/tenant-user.entity';
import { WEBHOOK_EVENT_TYPES } from '@orgms/common/webhooks/webhook-events';
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_ENDPOINT_STATUSES } from '@orgms/common/webhooks/webhook-store';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * Every JSON answer of the API, once: a JSON Schema object per shape. The OpenAPI components are
 * built from these objects (openapi/components.ts turns a nested named shape into a `$ref`), and
 * the presenters' return types are derived from them with `FromSchema`, so a presenter that adds,
 * drops or retypes a member no longer compiles. The test suites validate every answer against
 * the document (test/support/contract.ts), so the server cannot drift from them either.
 *
 * Answers are closed (`additionalProperties: false`): a new member is a contract change, made here.
 */

const uuid = { type: 'string', format: 'uuid', examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab'] } as const;
const dateTime = { type: 'string', format: 'date-time', examples: ['2026-11-21T21:13:17.815Z'] } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nextCursor = {
  type: ['string', 'null'],
  description: 'Pass as `cursor` for the next page; null on the last page.',
  examples: ['MjAyNi0xMS0yMVQyMToxMzoxNy44MTVa'],
} as const;

export const organizationStatusName = { type: 'string', enum: ORGANIZATION_STATUSES } as const satisfies JSONSchema;

const databaseServerName = {
  type: ['string', 'null'],
  description: 'The name of the database server holding its database (null only before one is chosen).',
  examples: ['default'],
} as const;

export const organization = {
  type: 'object',
  description: 'An organization (no database name, no hashes).',
  additionalProperties: false,
  required: [
    'id',
    'name',
    'slug',
    'status',
    'step',
    'last_error',
    'admin_email',
    'schema_version',
    'database_server',
    'database_role',
    'deleted_at',
    'purge_after',
    'created_at',
    'updated_at',
  ],
  properties: {
    id: uuid,
    name: { type: 'string', examples: ['Acme Corp'] },
    slug: { type: 'string', examples: ['acme-corp'] },
    status: organizationStatusName,
    step: { type: ['string', 'null'], description: 'The provisioning step running or last run.', examples: ['activate'] },
    last_error: { type: ['string', 'null'], description: 'Why the last attempt failed, in plain words.' },
    admin_email: { type: 'string', format: 'email', examples: ['owner@acme.test'] },
    schema_version: { type: ['string', 'null'], description: 'Newest tenant migration applied to its database.', examples: ['CreateUsers1732200000000'] },
    database_server: databaseServerName,
    database_role: {
      type: 'string',
      enum: ['own', 'shared'],
      description:
        '`own`: its database is owned by, and reached only as, its own login role. `shared`: reached as the service role ' +
        '(before provisioning made its role, an organization from before roles until a fleet run gives it one, or a server registered with `tenant_roles: false`).',
      examples: ['own'],
    },
    deleted_at: { ...nullableDateTime, description: 'When it was deleted; null unless `deleted`, `purging` or `purged`.' },
    purge_after: {
      ...nullableDateTime,
      description:
        'While `deleted`: when the grace period ends and its database is archived and dropped. Until then `POST /organizations/{id}/restore` brings it back.',
    },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const organizationStatus = {
  type: 'object',
  description: "An organization's provisioning status: a small answer for polling.",
  additionalProperties: false,
  required: ['id', 'status', 'step', 'attempts', 'last_error', 'database_server', 'updated_at'],
  properties: {
    id: uuid,
    status: organizationStatusName,
    step: { type: ['string', 'null'], examples: ['migrate'] },
    attempts: { type: 'integer', minimum: 0, examples: [1] },
    last_error: { type: ['string', 'null'] },
    database_server: databaseServerName,
    updated_at: dateTime,
  },
} as const satisfies JSONSchema;

export const organizationList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: organization }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

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

/** The shared part of a tracked run over many organizations (fleet migrations, drains). */
const runCounts = {
  total: { type: 'integer', minimum: 0, description: 'Organizations the run covers.', examples: [20] },
  succeeded: { type: 'integer', minimum: 0, examples: [19] },
  failed: { type: 'integer', minimum: 0, examples: [1] },
  skipped: { type: 'integer', minimum: 0, examples: [0] },
  pending: { type: 'integer', minimum: 0, examples: [0] },
  progress: { type: 'number', minimum: 0, maximum: 1, description: 'Share of organizations done (0 while queued).', examples: [1] },
} as const;

const runStatus = { type: 'string', enum: ['queued', 'running', 'completed'] } as const;

const runTimes = { created_at: dateTime, started_at: nullableDateTime, finished_at: nullableDateTime } as const;

const runRequired = ['id', 'status', 'total', 'succeeded', 'failed', 'skipped', 'pending', 'progress', 'created_at', 'started_at', 'finished_at'] as const;

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

const runFailures = { type: 'array', items: runFailure } as const;

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

export const organizationExport = {
  type: 'object',
  description:
    "A `pg_dump -Fc` of an organization's database. `queued` → `running` → `ready` (download it) or `failed` (`error` says why); " +
    '`expired` once `expires_at` has passed (the file is deleted).',
  additionalProperties: false,
  required: ['id', 'organization_id', 'status', 'size_bytes', 'sha256', 'error', 'created_at', 'finished_at', 'expires_at'],
  properties: {
    id: uuid,
    organization_id: uuid,
    status: { type: 'string', enum: EXPORT_STATUSES },
    size_bytes: { type: ['integer', 'null'], minimum: 0, description: 'The size of the archive once ready.', examples: [48213] },
    sha256: {
      type: ['string', 'null'],
      pattern: '^[0-9a-f]{64}$',
      description: 'The SHA-256 of the archive in hex, once ready (the download sends it base64 in `Repr-Digest`).',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    error: { type: ['string', 'null'], description: 'Why it failed.', examples: ['export: pg_dump failed (exit 1): connection refused'] },
    created_at: dateTime,
    finished_at: nullableDateTime,
    expires_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const organizationArchive = {
  type: 'object',
  description:
    "A `pg_dump -Fc` of an organization's database written by its purge into ARCHIVE_DIR before the database was dropped; kept until an " +
    'operator removes it. `written` once the whole file is on disk, `verified` once `pg_restore --list` read it and its SHA-256 matched again.',
  additionalProperties: false,
  required: ['id', 'organization_id', 'file_name', 'status', 'size_bytes', 'sha256', 'created_at', 'verified_at', 'restore_command'],
  properties: {
    id: uuid,
    organization_id: uuid,
    file_name: {
      type: 'string',
      description: 'The file name inside ARCHIVE_DIR.',
      examples: ['4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump'],
    },
    status: { type: 'string', enum: ARCHIVE_STATUSES },
    size_bytes: { type: 'integer', minimum: 0, description: 'The size of the file when it was written.', examples: [48213] },
    sha256: {
      type: 'string',
      pattern: '^[0-9a-f]{64}$',
      description: 'The SHA-256 of the file in hex, recorded when it was written.',
      examples: ['9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    },
    created_at: dateTime,
    verified_at: nullableDateTime,
    restore_command: {
      type: 'string',
      description: 'The command an operator runs (on a host with this installation and ARCHIVE_DIR) to recreate the organization from it, with a new id.',
      examples: ['npm run org:restore -- --archive /srv/orgms/var/archives/4f0c2a7e-9d1b-4c1e-8f00-1234567890ab-20261205T041000123Z.dump'],
    },
  },
} as const satisfies JSONSchema;

export const organizationArchiveList = {
  type: 'object',
  additionalProperties: false,
  required: ['items'],
  properties: { items: { type: 'array', items: organizationArchive, description: 'Newest first; every archive of the organization (no pagination).' } },
} as const satisfies JSONSchema;

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

const webhookEventType = { type: 'string', enum: WEBHOOK_EVENT_TYPES, examples: ['organization.active'] } as const;

const webhookEndpointProperties = {
  id: uuid,
  url: { type: 'string', format: 'uri', examples: ['https://hooks.example.com/orgms'] },
  description: { type: ['string', 'null'], examples: ['Billing system'] },
  events: { type: 'array', items: webhookEventType, minItems: 1, examples: [['organization.created', 'organization.active']] },
  status: {
    type: 'string',
    enum: WEBHOOK_ENDPOINT_STATUSES,
    description: '`failing` once a delivery ran out of retries (WEBHOOK_MAX_AGE_MS); a later successful delivery makes it `active` again.',
  },
  failing_since: { ...nullableDateTime, description: 'When it became `failing`.' },
  last_error: { type: ['string', 'null'], description: 'Why the delivery that made it `failing` failed.', examples: ['HTTP 503'] },
  created_at: dateTime,
  updated_at: dateTime,
} as const;

const webhookEndpointRequired = ['id', 'url', 'description', 'events', 'status', 'failing_since', 'last_error', 'created_at', 'updated_at'] as const;

export const webhookEndpoint = {
  type: 'object',
  description: 'A webhook endpoint: where events are POSTed, signed per Standard Webhooks. Its signing secret is never shown again after creation or rotation.',
  additionalProperties: false,
  required: webhookEndpointRequired,
  properties: webhookEndpointProperties,
} as const satisfies JSONSchema;

export const webhookEndpointWithSecret = {
  type: 'object',
  description: 'A webhook endpoint with its signing secret, shown this once: verify deliveries with it (any Standard Webhooks library).',
  additionalProperties: false,
  required: [...webhookEndpointRequired, 'secret'],
  properties: {
    ...webhookEndpointProperties,
    secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]+=*$', examples: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] },
  },
} as const satisfies JSONSchema;

export const webhookEndpointList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: webhookEndpoint }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export const webhookDelivery = {
  type: 'object',
  description:
    'One event sent to one endpoint: `pending` (being tried; `next_attempt_at` says when), `delivered` (a 2xx) or `failed` (out of retries). ' +
    'The response code and latency are those of the last attempt.',
  additionalProperties: false,
  required: [
    'id',
    'event_id',
    'event_type',
    'organization_id',
    'message_id',
    'status',
    'attempts',
    'response_status',
    'latency_ms',
    'last_error',
    'next_attempt_at',
    'redelivery_of',
    'created_at',
    'last_attempt_at',
    'delivered_at',
  ],
  properties: {
    id: uuid,
    event_id: { type: 'string', pattern: '^[0-9]+$', description: 'The organization event (as in the status stream).', examples: ['42'] },
    event_type: webhookEventType,
    organization_id: uuid,
    message_id: { type: 'string', description: 'The `webhook-id` header: the same for every attempt and redelivery of the event.', examples: ['msg_42'] },
    status: { type: 'string', enum: WEBHOOK_DELIVERY_STATUSES },
    attempts: { type: 'integer', minimum: 0, examples: [1] },
    response_status: { type: ['integer', 'null'], description: "The last attempt's HTTP status (null: no answer).", examples: [200] },
    latency_ms: { type: ['integer', 'null'], minimum: 0, description: "The last attempt's duration, request to the answer's last byte.", examples: [38] },
    last_error: { type: ['string', 'null'], examples: ['no complete answer within 10000 ms'] },
    next_attempt_at: { ...nullableDateTime, description: 'When the next attempt is due, while `pending`.' },
    redelivery_of: { type: ['string', 'null'], format: 'uuid', description: 'The delivery this one sends again (`POST …/redeliver`).' },
    created_at: dateTime,
    last_attempt_at: nullableDateTime,
    delivered_at: nullableDateTime,
  },
} as const satisfies JSONSchema;

export const webhookDeliveryList = {
  type: 'object',
  additionalProperties: false,
  required: ['items', 'next_cursor'],
  properties: { items: { type: 'array', items: webhookDelivery }, next_cursor: nextCursor },
} as const satisfies JSONSchema;

export const webhookEvent = {
  type: 'object',
  description: 'The body of every webhook (Standard Webhooks: `type`, `timestamp`, `data`).',
  additionalProperties: false,
  required: ['type', 'timestamp', 'data'],
  properties: {
    type: webhookEventType,
    timestamp: { ...dateTime, description: 'When the event happened.' },
    data: {
      type: 'object',
      additionalProperties: false,
      required: ['event_id', 'organization', 'previous_status', 'request_id'],
      properties: {
        event_id: { type: 'string', pattern: '^[0-9]+$', description: "The organization event's id: increasing per organization.", examples: ['42'] },
        organization: { ...organization, description: 'The organization as `GET /organizations/{id}` would have answered in the transaction of the event.' },
        previous_status: {
          type: ['string', 'null'],
          enum: [...ORGANIZATION_STATUSES, null],
          description: 'The status before (null for `organization.created`).',
        },
        request_id: {
          type: ['string', 'null'],
          description: 'The request that caused it (its `X-Request-Id`).',
          examples: ['0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980'],
        },
      },
    },
  },
} as const satisfies JSONSchema;

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

const problemProperties = {
  type: { type: 'string', format: 'uri', description: 'Stable per kind of problem.', examples: ['https://orgms.dev/problems/not-found'] },
  title: { type: 'string', examples: ['Not found'] },
  status: { type: 'integer', minimum: 400, maximum: 599, examples: [404] },
  detail: { type: 'string', examples: ['No such organization.'] },
  requestId: {
    type: 'string',
    description: 'Quote it when reporting a problem; it is in every log line of the request.',
    examples: ['0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980'],
  },
} as const;

/** Answers that Node's HTTP parser writes before Express runs (clientError) carry no requestId. */
const problemRequired = ['type', 'title', 'status', 'detail'] as const;

export const problem = {
  type: 'object',
  description: 'RFC 9457 problem details. Never contains stack traces, SQL or driver messages.',
  additionalProperties: false,
  required: problemRequired,
  properties: problemProperties,
} as const satisfies JSONSchema;

export const fieldError = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'message'],
  properties: {
    field: { type: 'string', description: 'The request part and path of the field.', examples: ['body.password'] },
    message: { type: 'string', examples: ['password length must be at least 8 characters long'] },
  },
} as const satisfies JSONSchema;

export const validationProblem = {
  type: 'object',
  description: 'A 400: the problem, and for a request that failed validation, each failing field (absent for unreadable bodies).',
  additionalProperties: false,
  required: problemRequired,
  properties: { ...problemProperties, errors: { type: 'array', items: fieldError } },
} as const satisfies JSONSchema;

export const conflictProblem = {
  type: 'object',
  description:
    'A 409. `organization_status`: the organization is not active, so what needs it waits (its users, its users routes, logins). ' +
    '`current_status`: the organization is in a status from which this change is not allowed.',
  additionalProperties: false,
  required: problemRequired,
  properties: {
    ...problemProperties,
    organization_status: organizationStatusName,
    current_status: organizationStatusName,
    export_status: { type: 'string', enum: EXPORT_STATUSES, description: 'The export is not ready (download).' },
  },
} as const satisfies JSONSchema;

export const tooManyRequestsProblem = {
  type: 'object',
  description: 'A 429. `rate_limit`: the request rate that was exceeded (absent when a login or self-signup throttle refused).',
  additionalProperties: false,
  required: problemRequired,
  properties: {
    ...problemProperties,
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      required: ['class', 'scope', 'limit', 'window_seconds'],
      properties: {
        class: { type: 'string', enum: REQUEST_CLASSES, description: 'The class the request counted in.' },
        scope: {
          type: 'string',
          enum: ['organization', 'platform_admin'],
          description: "Whose requests count together: the organization's users, or this platform admin.",
        },
        limit: { type: 'integer', minimum: 1, description: 'Requests of that class per window.', examples: [6000] },
        window_seconds: { type: 'integer', minimum: 1, examples: [60] },
      },
    },
  },
} as const satisfies JSONSchema;

/** The named shapes of the document, in its order: `#/components/schemas/<name>`. */
export const responseSchemas = {
  Problem: problem,
  ValidationProblem: validationProblem,
  ConflictProblem: conflictProblem,
  TooManyRequestsProblem: tooManyRequestsProblem,
  FieldError: fieldError,
  OrganizationStatusName: organizationStatusName,
  Organization: organization,
  OrganizationStatus: organizationStatus,
  OrganizationList: organizationList,
  User: user,
  UserList: userList,
  PlatformAdmin: platformAdmin,
  PlatformAdminIdentity: platformAdminIdentity,
  Token: token,
  OrganizationUserSelf: organizationUserSelf,
  CurrentUser: currentUser,
  MigrationRunSummary: migrationRunSummary,
  RunFailure: runFailure,
  MigrationRun: migrationRun,
  MigrationRunList: migrationRunList,
  Orphan: orphan,
  OrphanList: orphanList,
  DatabaseServer: databaseServer,
  DatabaseServerList: databaseServerList,
  ServerDrain: serverDrain,
  OrganizationExport: organizationExport,
  OrganizationArchive: organizationArchive,
  OrganizationArchiveList: organizationArchiveList,
  AuditEntry: auditEntry,
  AuditEntryList: auditEntryList,
  WebhookEndpoint: webhookEndpoint,
  WebhookEndpointWithSecret: webhookEndpointWithSecret,
  WebhookEndpointList: webhookEndpointList,
  WebhookDelivery: webhookDelivery,
  WebhookDeliveryList: webhookDeliveryList,
  WebhookEvent: webhookEvent,
  Health: health,
  Readiness: readiness,
} as const;

export type OrganizationBody = FromSchema<typeof organization>;
export type OrganizationStatusBody = FromSchema<typeof organizationStatus>;
export type OrganizationListBody = FromSchema<typeof organizationList>;
export type UserBody = FromSchema<typeof user>;
export type UserListBody = FromSchema<typeof userList>;
export type PlatformAdminBody = FromSchema<typeof platformAdmin>;
export type TokenBody = FromSchema<typeof token>;
export type OrganizationUserSelfBody = FromSchema<typeof organizationUserSelf>;
export type MigrationRunSummaryBody = FromSchema<typeof migrationRunSummary>;
export type MigrationRunBody = FromSchema<typeof migrationRun>;
export type MigrationRunListBody = FromSchema<typeof migrationRunList>;
export type OrphanBody = FromSchema<typeof orphan>;
export type OrphanListBody = FromSchema<typeof orphanList>;
export type DatabaseServerBody = FromSchema<typeof databaseServer>;
export type DatabaseServerListBody = FromSchema<typeof databaseServerList>;
export type ServerDrainBody = FromSchema<typeof serverDrain>;
export type OrganizationExportBody = FromSchema<typeof organizationExport>;
export type OrganizationArchiveBody = FromSchema<typeof organizationArchive>;
export type OrganizationArchiveListBody = FromSchema<typeof organizationArchiveList>;
export type AuditEntryBody = FromSchema<typeof auditEntry>;
export type AuditEntryListBody = FromSchema<typeof auditEntryList>;
export type HealthBody = FromSchema<typeof health>;
export type ReadinessBody = FromSchema<typeof readiness>;
export type ProblemBody = FromSchema<typeof problem>;
export type WebhookEndpointBody = FromSchema<typeof webhookEndpoint>;
export type WebhookEndpointWithSecretBody = FromSchema<typeof webhookEndpointWithSecret>;
export type WebhookEndpointListBody = FromSchema<typeof webhookEndpointList>;
export type WebhookDeliveryBody = FromSchema<typeof webhookDelivery>;
export type WebhookDeliveryListBody = FromSchema<typeof webhookDeliveryList>;
