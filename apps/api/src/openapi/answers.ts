/**
 * The answers and request bodies that route annotations reference instead of spelling out: each
 * names its shape (openapi/response-schemas.ts, request-schemas.ts), its headers and its examples
 * once. An annotation writes `'200': { $ref: '#/components/responses/User', description: … }`,
 * overriding only the description where its words are particular (OpenAPI 3.1 lets a reference do so).
 */

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

interface AnswerParts {
  /** Header name → `#/components/headers/<name>`. */
  headers?: Record<string, string>;
  /** Example key → `#/components/examples/<name>` (rendered by the presenters from their fixtures). */
  examples?: Record<string, string>;
}

const byRef = (kind: string, names: Record<string, string>) => Object.fromEntries(Object.entries(names).map(([key, name]) => [key, ref(kind, name)]));

/**
 * Answers to a request whose token was accepted carry its request rate (RateLimit-Policy,
 * RateLimit); a shared answer declares them for every operation that uses it (optional: requests
 * without a token are not counted).
 */
const rateLimited = { 'RateLimit-Policy': 'RateLimitPolicy', RateLimit: 'RateLimit' };

function answer(description: string, schema: string, { headers, examples }: AnswerParts = {}) {
  return {
    description,
    headers: byRef('headers', { ...rateLimited, ...headers }),
    content: { 'application/json': { schema: ref('schemas', schema), ...(examples && { examples: byRef('examples', examples) }) } },
  };
}

const whileInProgress = { 'Retry-After': 'RetryAfterWhileInProgress' };
const longPolled = { ...whileInProgress, 'Preference-Applied': 'PreferenceApplied' };
const atOrganization = { Location: 'OrganizationLocation', ...whileInProgress };

export const answerHeaders = {
  RetryAfterWhileExporting: retryAfterWhile('present while the export is `queued` or `running`.'),
  RetryAfterWhileBackingUp: retryAfterWhile('present while the backup is `queued` or `running`.'),
  RetryAfterUntilRunCompleted: retryAfterWhile('present until the run is completed.'),
  RetryAfterUntilDrainCompleted: retryAfterWhile('present until the drain is completed.'),
  ExportSize: { required: true, description: 'The size of the archive in bytes.', schema: { type: 'integer', minimum: 0, examples: [48213] } },
  ExportAttachment: {
    required: true,
    description: 'An attachment named `<organization slug>-<YYYY-MM-DD>.dump`.',
    schema: { type: 'string', pattern: '^attachment; filename="[a-z0-9-]+\\.dump"$', examples: ['attachment; filename="acme-corp-2026-11-22.dump"'] },
  },
  ExportDigest: {
    required: true,
    description: "The SHA-256 of the archive (RFC 9530), base64 between colons; the export's `sha256` is the same digest in hex.",
    schema: { type: 'string', pattern: '^sha-256=:[A-Za-z0-9+/]{43}=:$', examples: ['sha-256=:n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=:'] },
  },
};

function retryAfterWhile(when: string) {
  return { description: `Seconds to wait before polling again; ${when}`, schema: { type: 'integer', minimum: 0, examples: [2] } };
}

/** An answer that is not JSON: its media type, a plain string schema (or `binary`) and an example. */
function other(description: string, mediaType: string, example?: string, headers?: Record<string, string>) {
  const schema = example === undefined ? { type: 'string', format: 'binary' } : { type: 'string' };
  return {
    description,
    headers: byRef('headers', { ...rateLimited, ...headers }),
    content: { [mediaType]: { schema, ...(example !== undefined && { example }) } },
  };
}

/** A 401 of a route outside the API's bearer tokens, with the challenge that tells a client how to sign in. */
function challenge(description: string, header: string) {
  return {
    description,
    headers: byRef('headers', { 'WWW-Authenticate': header }),
    content: { 'application/problem+json': { schema: ref('schemas', 'Problem') } },
  };
}

export const answers = {
  Session: answer('A bearer token.', 'Token'),
  PlatformAdminSession: answer('A bearer token.', 'Token', { examples: { platformAdminSession: 'PlatformAdminSession' } }),
  RefreshedSession: answer('A new access token and refresh token.', 'Token', { examples: { refreshedSession: 'RefreshedSession' } }),
  RegisteredPlatformAdmin: answer('The new platform admin.', 'PlatformAdmin', { examples: { registeredPlatformAdmin: 'RegisteredPlatformAdmin' } }),
  CurrentUser: answer('The caller.', 'CurrentUser'),
  OrganizationCreated: answer('Accepted; the organization is `pending`.', 'Organization', {
    headers: atOrganization,
    examples: { pendingOrganization: 'PendingOrganization' },
  }),
  OrganizationAccepted: answer('Accepted; the worker carries it out. Follow `Location`.', 'Organization', { headers: atOrganization }),
  OrganizationMoving: answer('The move is under way; the organization is `moving`.', 'Organization', {
    headers: { Location: 'OrganizationLocation', 'Retry-After': 'RetryAfter' },
    examples: { movingOrganization: 'MovingOrganization' },
  }),
  Organization: answer('The organization.', 'Organization'),
  OrganizationWhileInProgress: answer('The organization.', 'Organization', { headers: whileInProgress }),
  PolledOrganization: answer('The organization.', 'Organization', { headers: longPolled }),
  PolledOrganizationStatus: answer('The status.', 'OrganizationStatus', { headers: longPolled, examples: { provisioningStatus: 'ProvisioningStatus' } }),
  OrganizationOrPage: {
    description: 'The organization, or a page of organizations.',
    headers: byRef('headers', { ...rateLimited, ...whileInProgress }),
    content: { 'application/json': { schema: { oneOf: [ref('schemas', 'Organization'), ref('schemas', 'OrganizationList')] } } },
  },
  StatusStream: other(
    'The event stream.',
    'text/event-stream',
    'id: 41\nevent: status\ndata: {"id":"4f0c2a7e-9d1b-4c1e-8f00-1234567890ab","status":"provisioning","step":"migrate","detail":null,"at":"2026-11-21T21:13:17.900Z"}\n\n',
  ),
  OrganizationLimits: answer('Its limits and usage.', 'OrganizationLimits'),
  OrganizationPage: answer('A page of organizations.', 'OrganizationList', { examples: { emptyOrganizationPage: 'EmptyOrganizationPage' } }),
  OrganizationArchives: answer("The organization's archives, newest first (empty when it has none).", 'OrganizationArchiveList', {
    examples: { purged: 'PurgedOrganizationArchives', none: 'NoOrganizationArchives' },
  }),
  ExportQueued: answer('The export is queued.', 'OrganizationExport', { headers: { Location: 'ExportLocation' }, examples: { queuedExport: 'QueuedExport' } }),
  Export: answer('The export.', 'OrganizationExport', { headers: { 'Retry-After': 'RetryAfterWhileExporting' }, examples: { readyExport: 'ReadyExport' } }),
  ExportArchive: other('The archive.', 'application/octet-stream', undefined, {
    'Content-Length': 'ExportSize',
    'Content-Disposition': 'ExportAttachment',
    'Repr-Digest': 'ExportDigest',
  }),
  BackupQueued: answer('The backup is queued.', 'OrganizationBackup', { headers: { Location: 'BackupLocation' } }),
  Backup: answer('The backup.', 'OrganizationBackup', { headers: { 'Retry-After': 'RetryAfterWhileBackingUp' } }),
  BackupPage: answer('A page of backups.', 'OrganizationBackupList'),
  UserCreated: answer('Created.', 'User', { headers: { Location: 'UserLocation' } }),
  User: answer('The user.', 'User'),
  UserPage: answer('A page of users.', 'UserList'),
  MigrationRunStarted: answer('Run started; follow `Location`.', 'MigrationRun', { headers: { Location: 'MigrationRunLocation' } }),
  MigrationRun: answer('The run.', 'MigrationRun', { headers: { 'Retry-After': 'RetryAfterUntilRunCompleted' } }),
  MigrationRunPage: answer('A page of runs.', 'MigrationRunList'),
  DatabaseLimitsRunStarted: answer('Run started; follow `Location`.', 'DatabaseLimitsRun', { headers: { Location: 'DatabaseLimitsRunLocation' } }),
  DatabaseLimitsRun: answer('The run.', 'DatabaseLimitsRun', { headers: { 'Retry-After': 'RetryAfterUntilRunCompleted' } }),
  Orphans: answer('The orphans found now.', 'OrphanList'),
  DatabaseServerList: answer('The fleet, by name.', 'DatabaseServerList', { examples: { defaultFleet: 'DefaultFleet' } }),
  DatabaseServerRegistered: answer('Registered.', 'DatabaseServer', { headers: { Location: 'DatabaseServerLocation' } }),
  DatabaseServer: answer('The server.', 'DatabaseServer'),
  DrainStarted: answer('Drain started.', 'ServerDrain', { headers: { Location: 'ServerDrainLocation' }, examples: { queuedDrain: 'QueuedDrain' } }),
  Drain: answer('The drain.', 'ServerDrain', {
    headers: { 'Retry-After': 'RetryAfterUntilDrainCompleted' },
    examples: { completedDrain: 'CompletedDrainWithFailure' },
  }),
  WebhookEndpointCreated: answer('Registered; the secret is shown this once.', 'WebhookEndpointWithSecret', {
    headers: { Location: 'WebhookLocation' },
    examples: { createdWebhookEndpoint: 'CreatedWebhookEndpoint' },
  }),
  WebhookEndpointPage: answer('One page of endpoints.', 'WebhookEndpointList', { examples: { webhookEndpointPage: 'WebhookEndpointPage' } }),
  WebhookEndpoint: answer('The endpoint.', 'WebhookEndpoint', { examples: { failingWebhookEndpoint: 'FailingWebhookEndpoint' } }),
  UpdatedWebhookEndpoint: answer('The changed endpoint.', 'WebhookEndpoint', { examples: { updatedWebhookEndpoint: 'UpdatedWebhookEndpoint' } }),
  RotatedWebhookEndpoint: answer('The endpoint with its new secret.', 'WebhookEndpointWithSecret', {
    examples: { rotatedWebhookEndpoint: 'RotatedWebhookEndpoint' },
  }),
  WebhookDeliveryPage: answer('One page of deliveries.', 'WebhookDeliveryList', { examples: { webhookDeliveryPage: 'WebhookDeliveryPage' } }),
  WebhookRedelivery: answer('The new delivery, pending.', 'WebhookDelivery', { examples: { pendingRedelivery: 'PendingRedelivery' } }),
  AuditEntryPage: answer('A page of entries.', 'AuditEntryList', { examples: { auditEntryPage: 'AuditEntryPage' } }),
  HtmlPage: other('An HTML page.', 'text/html', '<!DOCTYPE html>…'),
  OpenApiDocument: {
    description: 'The OpenAPI document.',
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['openapi', 'info', 'paths'],
          properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' }, components: { type: 'object' } },
        },
        example: { openapi: '3.1.0', info: { title: 'Organization Management Service', version: '0.1.0' }, paths: {} },
      },
    },
  },
  OperatorUnauthorized: challenge('Not a platform admin; the answer carries a Basic challenge.', 'BasicChallenge'),
  MetricsUnauthorized: challenge('METRICS_TOKEN is set and the request did not send it.', 'BearerChallenge'),
};

/** The JSON bodies an operation requires, by their schema's name; the examples are what a client would send. */
const requiredBodies = {
  Credentials: undefined,
  NewPlatformAdmin: undefined,
  RefreshToken: undefined,
  NewOrganization: undefined,
  OrganizationChanges: undefined,
  OrganizationLogin: undefined,
  NewUser: undefined,
  UserChanges: undefined,
  CompatNewUser: undefined,
  CompatOrganizationChanges: undefined,
  NewDatabaseServer: undefined,
  DatabaseServerChanges: undefined,
  OrganizationMove: { database_server: 'pg-b' },
  NewWebhook: {
    url: 'https://hooks.example.com/orgms',
    events: ['organization.created', 'organization.active', 'organization.failed'],
    description: 'Billing system',
  },
  WebhookChanges: { events: ['organization.created', 'organization.active', 'organization.deleted'] },
  OrganizationLimitChanges: undefined,
};

export const requestBodies = Object.fromEntries(
  Object.entries(requiredBodies).map(([name, example]) => [
    name,
    { required: true, content: { 'application/json': { schema: ref('schemas', name), ...(example && { example }) } } },
  ]),
);
