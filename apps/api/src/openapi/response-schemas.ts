import { auditEntry, auditEntryList } from '../audit/audit.responses';
import {
  organizationArchive,
  organizationArchiveList,
  organizationBackup,
  organizationBackupList,
  organizationExport,
} from '../data-safety/data-safety.responses';
import { databaseServer, databaseServerList, orphan, orphanList } from '../fleet/fleet.responses';
import { migrationRun, migrationRunList, migrationRunSummary, runFailure, serverDrain } from '../fleet-migrations/fleet-migrations.responses';
import { databaseLimitsRun, organizationLimits, quotaExceededProblem } from '../limits/limits.responses';
import { health, readiness } from '../operator/operator.responses';
import { organization, organizationList, organizationStatus } from '../organizations/organizations.responses';
import { currentUser, organizationUserSelf, platformAdmin, platformAdminIdentity, token } from '../sign-in/sign-in.responses';
import { user, userList } from '../users/users.responses';
import {
  webhookDelivery,
  webhookDeliveryList,
  webhookEndpoint,
  webhookEndpointList,
  webhookEndpointWithSecret,
  webhookEvent,
} from '../webhooks/webhooks.responses';
import { conflictProblem, fieldError, organizationStatusName, problem, tooManyRequestsProblem, validationProblem } from './shapes';

/**
 * Every JSON answer of the API, once: a JSON Schema object per shape, in its capability's
 * `<capability>.responses.ts` next to the presenter that renders it (shared pieces and problems
 * in openapi/shapes.ts). The OpenAPI components are built from these objects (openapi/components.ts
 * turns a nested named shape into a `$ref`), and the presenters' return types are derived from
 * them with `FromSchema`, so a presenter that adds, drops or retypes a member no longer compiles.
 * The test suites validate every answer against the document (test/support/contract.ts), so the
 * server cannot drift from them either.
 *
 * Answers are closed (`additionalProperties: false`): a new member is a contract change.
 * A new answer is one line below, naming the shape its capability exports.
 */

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
  DatabaseLimitsRun: databaseLimitsRun,
  OrganizationExport: organizationExport,
  OrganizationBackup: organizationBackup,
  OrganizationBackupList: organizationBackupList,
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
  OrganizationLimits: organizationLimits,
  QuotaExceededProblem: quotaExceededProblem,
} as const;
