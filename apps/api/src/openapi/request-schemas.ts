import type Joi from 'joi';
import parse from 'joi-to-json';
import { auditQuery } from '../audit/audit.schemas';
import { compatCreateUserBody, compatListQuery, compatUpdateBody, organizationNameBody } from '../compat/compat.schemas';
import { backupParams, restoreBackupBody } from '../data-safety/backups.schemas';
import { exportParams } from '../data-safety/exports.schemas';
import { createDatabaseServerBody, updateDatabaseServerBody } from '../fleet/database-servers.schemas';
import { drainParams, moveOrganizationBody } from '../fleet/moves.schemas';
import { idParams } from '../http/common.schemas';
import { limitChangesBody } from '../limits/limits.schemas';
import { deleteOrganizationQuery, restoreOrganizationBody, updateOrganizationBody } from '../organizations/lifecycle.schemas';
import { createOrganizationBody, idempotencyHeaders, listOrganizationsQuery } from '../organizations/organizations.schemas';
import { loginBody, refreshTokenBody, registerBody } from '../sign-in/auth.schemas';
import { createUserBody, orgLoginBody, updateUserBody, userParams } from '../users/users.schemas';
import { createWebhookBody, deliveryParams, listDeliveriesQuery, updateWebhookBody } from '../webhooks/webhooks.schemas';

type JsonSchema = Record<string, unknown>;

/**
 * joi-to-json keeps a regular expression's flags in `pattern` ("^[^\p{C}]+$/u"). JSON Schema
 * patterns are ECMA-262 with Unicode semantics already, so `u` can go; any other flag (i, m…)
 * has no JSON Schema equivalent and must not be silently dropped.
 */
function withoutRegexFlags(schema: unknown): void {
  if (!schema || typeof schema !== 'object') return;
  const node = schema as JsonSchema;
  if (typeof node.pattern === 'string') {
    const flags = /(?<!\\)\/([a-z]+)$/.exec(node.pattern);
    if (flags) {
      if (flags[1] !== 'u') throw new Error(`pattern ${node.pattern}: flags "${flags[1]}" cannot be expressed in JSON Schema`);
      node.pattern = node.pattern.slice(0, flags.index);
    }
  }
  for (const value of Object.values(node)) withoutRegexFlags(value);
}

/**
 * joi-to-json also lists each of an object's `pattern` keys under `properties`, named by the
 * regular expression's text ("/^…$/"); only its `patternProperties` entry is meant.
 */
function withoutPatternsAsProperties(schema: unknown): void {
  if (!schema || typeof schema !== 'object') return;
  const node = schema as JsonSchema;
  const properties = node.properties as JsonSchema | undefined;
  if (properties && node.patternProperties) for (const pattern of Object.keys(node.patternProperties as JsonSchema)) delete properties[`/${pattern}/`];
  for (const value of Object.values(node)) withoutPatternsAsProperties(value);
}

/** Joi's `oxor` (none or one of the peers) as "not all of them": what it means for two peers, readably. */
function atMostOne(schema: JsonSchema, dependency: { peers: string[] }): void {
  if (dependency.peers.length !== 2) throw new Error('oxor of more than two keys: write its JSON Schema here');
  schema.not = { properties: Object.fromEntries(dependency.peers.map((peer) => [peer, true])), required: dependency.peers };
}

/** One Joi schema as an OpenAPI 3.1 (JSON Schema 2020-12) schema. */
export function jsonSchemaOf(schema: Joi.Schema): JsonSchema {
  const converted = parse(schema, 'open-api-3.1', {}, { logicalOpParser: { oxor: atMostOne } }) as JsonSchema;
  withoutRegexFlags(converted);
  withoutPatternsAsProperties(converted);
  // joi-to-json leaves out an object's own key count rules (`Joi.object().min(1)`).
  const description = schema.describe() as { type?: string; rules?: { name: string; args?: { limit?: number } }[] };
  if (description.type === 'object') {
    for (const rule of description.rules ?? []) {
      if (rule.name === 'min') converted.minProperties = rule.args?.limit;
      if (rule.name === 'max') converted.maxProperties = rule.args?.limit;
    }
  }
  if (Array.isArray(converted.required) && converted.required.length === 0) delete converted.required;
  return converted;
}

/**
 * The request bodies of the document, `#/components/schemas/<name>`: generated from the very Joi
 * schemas that validate them (each capability's `*.schemas.ts`), so the document cannot drift from them.
 */
export function requestBodySchemas(): Record<string, JsonSchema> {
  const bodies: Record<string, Joi.Schema> = {
    Credentials: loginBody,
    NewPlatformAdmin: registerBody,
    RefreshToken: refreshTokenBody,
    NewOrganization: createOrganizationBody,
    OrganizationChanges: updateOrganizationBody,
    OrganizationRestore: restoreOrganizationBody,
    BackupRestore: restoreBackupBody,
    OrganizationLogin: orgLoginBody,
    NewUser: createUserBody,
    UserChanges: updateUserBody,
    CompatNewUser: compatCreateUserBody,
    CompatOrganizationChanges: compatUpdateBody,
    CompatOrganizationName: organizationNameBody,
    NewDatabaseServer: createDatabaseServerBody,
    DatabaseServerChanges: updateDatabaseServerBody,
    OrganizationMove: moveOrganizationBody,
    NewWebhook: createWebhookBody,
    WebhookChanges: updateWebhookBody,
    OrganizationLimitChanges: limitChangesBody,
  };
  return Object.fromEntries(Object.entries(bodies).map(([name, schema]) => [name, jsonSchemaOf(schema)]));
}

function parameter(location: 'path' | 'query' | 'header', object: Joi.ObjectSchema, key: string, description?: string): JsonSchema {
  const objectSchema = jsonSchemaOf(object) as { properties: Record<string, JsonSchema>; required?: string[] };
  const schema = objectSchema.properties[key];
  if (!schema) throw new Error(`no "${key}" in the ${location} schema`);
  const { description: fromSchema, ...rest } = schema;
  const required = location === 'path' || (objectSchema.required ?? []).includes(key);
  return { name: key, in: location, required, description: description ?? fromSchema, schema: rest };
}

/** Path and query parameters, `#/components/parameters/<name>`, from the same Joi schemas. */
export function requestParameters(): Record<string, JsonSchema> {
  return {
    OrganizationId: parameter('path', idParams, 'id', "The organization's id."),
    UserId: parameter('path', userParams, 'userId', "The user's id."),
    MigrationRunId: parameter('path', idParams, 'id', "The migration run's id."),
    DatabaseLimitsRunId: parameter('path', idParams, 'id', "The run's id."),
    DatabaseServerId: parameter('path', idParams, 'id', "The database server's id."),
    IdempotencyKey: { ...parameter('header', idempotencyHeaders, 'idempotency-key'), name: 'Idempotency-Key' },
    DrainId: parameter('path', drainParams, 'drainId', "The drain's id."),
    ExportId: parameter('path', exportParams, 'exportId', "The export's id."),
    BackupId: parameter('path', backupParams, 'backupId', "The backup's id."),
    WebhookId: parameter('path', idParams, 'id', "The webhook endpoint's id."),
    DeliveryId: parameter('path', deliveryParams, 'deliveryId', "The delivery's id."),
    DeliveryStatusFilter: parameter('query', listDeliveriesQuery, 'status'),
    OrganizationStatusFilter: parameter('query', listOrganizationsQuery, 'status'),
    OrganizationNameFilter: parameter('query', listOrganizationsQuery, 'name'),
    OrganizationServerFilter: parameter('query', listOrganizationsQuery, 'database_server_id'),
    OrganizationExternalIdFilter: parameter('query', listOrganizationsQuery, 'external_id'),
    CreatedAfter: parameter('query', listOrganizationsQuery, 'created_after'),
    CreatedBefore: parameter('query', listOrganizationsQuery, 'created_before'),
    OrganizationSort: parameter('query', listOrganizationsQuery, 'sort'),
    Limit: parameter('query', listOrganizationsQuery, 'limit'),
    Cursor: parameter('query', listOrganizationsQuery, 'cursor'),
    OrganizationNameQuery: parameter('query', compatListQuery, 'organization_name', "The organization's name, in any case."),
    AuditOrganization: parameter('query', auditQuery, 'organization_id'),
    AuditActor: parameter('query', auditQuery, 'actor_id'),
    AuditAction: parameter('query', auditQuery, 'action'),
    AuditFrom: parameter('query', auditQuery, 'from'),
    AuditTo: parameter('query', auditQuery, 'to'),
    Purge: parameter('query', deleteOrganizationQuery, 'purge'),
  };
}
