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

function answer(description: string, schema: string, { headers, examples }: AnswerParts = {}) {
  return {
    description,
    ...(headers && { headers: byRef('headers', headers) }),
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
};

function retryAfterWhile(when: string) {
  return { description: `Seconds to wait before polling again; ${when}`, schema: { type: 'integer', minimum: 0, examples: [2] } };
}

export const answers = {
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
  OrganizationPage: answer('A page of organizations.', 'OrganizationList', { examples: { emptyOrganizationPage: 'EmptyOrganizationPage' } }),
  OrganizationArchives: answer("The organization's archives, newest first (empty when it has none).", 'OrganizationArchiveList', {
    examples: { purged: 'PurgedOrganizationArchives', none: 'NoOrganizationArchives' },
  }),
  ExportQueued: answer('The export is queued.', 'OrganizationExport', { headers: { Location: 'ExportLocation' }, examples: { queuedExport: 'QueuedExport' } }),
  Export: answer('The export.', 'OrganizationExport', { headers: { 'Retry-After': 'RetryAfterWhileExporting' }, examples: { readyExport: 'ReadyExport' } }),
  BackupQueued: answer('The backup is queued.', 'OrganizationBackup', { headers: { Location: 'BackupLocation' } }),
  Backup: answer('The backup.', 'OrganizationBackup', { headers: { 'Retry-After': 'RetryAfterWhileBackingUp' } }),
  BackupPage: answer('A page of backups.', 'OrganizationBackupList'),
  UserCreated: answer('Created.', 'User', { headers: { Location: 'UserLocation' } }),
  User: answer('The user.', 'User'),
  UserPage: answer('A page of users.', 'UserList'),
  MigrationRunStarted: answer('Run started; follow `Location`.', 'MigrationRun', { headers: { Location: 'MigrationRunLocation' } }),
  MigrationRun: answer('The run.', 'MigrationRun', { headers: { 'Retry-After': 'RetryAfterUntilRunCompleted' } }),
  DatabaseServerRegistered: answer('Registered.', 'DatabaseServer', { headers: { Location: 'DatabaseServerLocation' } }),
  DatabaseServer: answer('The server.', 'DatabaseServer'),
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
  AuditEntryPage: answer('A page of entries.', 'AuditEntryList', { examples: { auditEntryPage: 'AuditEntryPage' } }),
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
};

export const requestBodies = Object.fromEntries(
  Object.entries(requiredBodies).map(([name, example]) => [
    name,
    { required: true, content: { 'application/json': { schema: ref('schemas', name), ...(example && { example }) } } },
  ]),
);
