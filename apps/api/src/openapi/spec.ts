import path from 'node:path';
import swaggerJsdoc from 'swagger-jsdoc';
import { outgoingWebhooks } from '../webhooks/outgoing-webhooks';
import { components, problemStatus, problemsOfShape } from './components';

let cached: Record<string, unknown> | undefined;

interface Operation {
  operationId?: string;
  parameters?: unknown[];
  requestBody?: unknown;
  security?: Record<string, string[]>[];
  responses: Record<string, unknown>;
  'x-problems'?: (keyof typeof problemStatus)[];
}
type Operations = Record<string, Record<string, Operation>>;

/**
 * An annotation writes the parameters all operations of its path share once, on the path
 * (OpenAPI's path-level `parameters`); they are moved into each operation, ahead of its own, so
 * an operation lists every parameter it takes, as the 400 rule below and the typed client read it.
 */
function inlinePathParameters(paths: Operations): void {
  for (const operations of Object.values(paths)) {
    const shared = operations.parameters as unknown as unknown[] | undefined;
    if (!shared) continue;
    delete operations.parameters;
    for (const operation of Object.values(operations)) operation.parameters = [...shared, ...(operation.parameters ?? [])];
  }
}

/** `get /organizations/{id}/status` → `getOrganizationsIdStatus`, for operations that name none. */
function nameOperations(paths: Operations): void {
  for (const [path, operations] of Object.entries(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
      operation.operationId ??= method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('');
    }
  }
}

/**
 * An annotation lists in `x-problems` only the problems particular to its operation (`[Forbidden,
 * NotFound]`); the ones its shape implies are added here, each under its status unless the
 * annotation answers that status itself (`'401': LoginFailed`): 400 when it takes parameters or a
 * body, 413 and 415 with a body, 401 with a bearer token, 503 always.
 */
function addProblems(paths: Operations): void {
  for (const operation of Object.values(paths).flatMap((operations) => Object.values(operations))) {
    const particular = operation['x-problems'];
    if (!particular) continue;
    delete operation['x-problems'];
    const usesToken = (operation.security ?? [{ bearerAuth: [] }]).some((scheme) => 'bearerAuth' in scheme);
    const names = [
      ...particular,
      ...problemsOfShape.always,
      ...(operation.parameters?.length || operation.requestBody ? problemsOfShape.validated : []),
      ...(operation.requestBody ? problemsOfShape.body : []),
      ...(usesToken ? problemsOfShape.token : []),
    ];
    // Integer-like keys keep ascending order in JavaScript objects, so the statuses stay sorted.
    for (const name of names) operation.responses[problemStatus[name]] ??= { $ref: `#/components/responses/${name}` };
  }
}

/**
 * The OpenAPI 3.1 document, assembled by swagger-jsdoc from the `@openapi` blocks of the route
 * files (next to the code they describe) plus the shared components. Works from `src` (tsx)
 * and `dist` (tsc keeps comments), so the spec always matches the routes that run.
 */
export function openApiSpec(): Record<string, unknown> {
  cached ??= swaggerJsdoc({
    definition: {
      openapi: '3.1.0',
      info: {
        title: 'Organization Management Service',
        version: '0.1.0',
        description:
          'Create organizations, each with its own PostgreSQL database provisioned asynchronously, and manage the users inside them.\n\n' +
          'Start with `POST /auth/login`, then `POST /organizations` (202 Accepted) and poll `GET /organizations/{id}/status` until `active`. ' +
          'Every error is `application/problem+json` (RFC 9457) with a `requestId`.',
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      servers: [{ url: '/', description: 'this server' }],
      // Most routes need a bearer token; public ones say `security: []`.
      security: [{ bearerAuth: [] }],
      components,
      webhooks: outgoingWebhooks,
      tags: [
        { name: 'Auth', description: 'Logins and platform admins' },
        { name: 'Organizations', description: 'Create, read and follow organizations' },
        { name: 'Lifecycle', description: 'Rename, delete, retry, status streams' },
        { name: 'Users', description: 'Users inside one organization database' },
        { name: 'Migrations', description: 'Fleet-wide tenant migrations' },
        { name: 'Webhooks', description: 'Signed organization events POSTed to registered endpoints (Standard Webhooks)' },
        { name: 'Audit', description: 'Who did what: logins, user, organization and webhook changes' },
        { name: 'Operations', description: 'Health, readiness, metrics, docs, queue dashboard' },
        { name: 'Compatibility', description: 'Routes of the seed services, kept so existing clients keep working. Prefer the resource routes.' },
      ],
    },
    apis: [path.join(__dirname, '../*/*.routes.{ts,js}'), path.join(__dirname, '../operator/{bull-board,metrics}.{ts,js}')],
    failOnErrors: true,
  }) as Record<string, unknown>;
  inlinePathParameters(cached.paths as Operations);
  addProblems(cached.paths as Operations);
  nameOperations(cached.paths as Operations);
  return cached;
}
