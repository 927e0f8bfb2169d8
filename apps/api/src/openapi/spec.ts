import { outgoingWebhooks } from '../webhooks/outgoing-webhooks';
import { annotatedPaths } from './annotations';
import { components } from './components';

let cached: Record<string, unknown> | undefined;

/**
 * The OpenAPI 3.1 document: the paths of the route files' `@openapi` blocks (openapi/annotations.ts)
 * plus the shared components, so the spec always matches the routes that run.
 */
export function openApiSpec(): Record<string, unknown> {
  cached ??= {
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
    paths: annotatedPaths(),
  };
  return cached;
}
