import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './generated/schema';

/**
 * A typed client of the orgms API: openapi-fetch over the types that openapi-typescript
 * generated from the API's own OpenAPI document (src/generated/schema.ts). Paths, parameters, bodies and
 * every documented answer, errors included, are checked by the compiler:
 *
 *   const api = createOrgmsClient({ baseUrl: 'http://localhost:3000' });
 *   const { data, error } = await api.POST('/auth/login', { body: { email, password } });
 */
export type { components, operations, paths };

type Schemas = components['schemas'];
export type Organization = Schemas['Organization'];
export type OrganizationStatus = Schemas['OrganizationStatus'];
export type OrganizationStatusName = Schemas['OrganizationStatusName'];
export type User = Schemas['User'];
export type Token = Schemas['Token'];
export type Problem = Schemas['Problem'];
export type ValidationProblem = Schemas['ValidationProblem'];
export type ConflictProblem = Schemas['ConflictProblem'];
export type MigrationRun = Schemas['MigrationRun'];

export type OrgmsClient = Client<paths>;

export interface OrgmsClientOptions extends ClientOptions {
  /** The API's URL, e.g. `http://localhost:3000`. */
  baseUrl: string;
  /** An `access_token` from `POST /auth/login` or `POST /admin/login`, sent as a bearer token on every request. */
  token?: string;
}

/** A client for one caller: make one per token (they are cheap). */
export function createOrgmsClient({ token, ...options }: OrgmsClientOptions): OrgmsClient {
  const client = createClient<paths>(options);
  if (token) {
    client.use({
      onRequest({ request }) {
        request.headers.set('Authorization', `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}

/** Statuses after which provisioning or deletion will not move on by itself. */
export const SETTLED_STATUSES: readonly OrganizationStatusName[] = ['active', 'failed', 'deleted'];

/**
 * Follows an organization until it is `active`, `failed` or `deleted`, by long polls
 * (`Prefer: wait=N`: the API answers as soon as the status changes, so no interval to tune).
 * Throws on an error answer or after `timeoutMs`.
 */
export async function waitForOrganization(client: OrgmsClient, id: string, { timeoutMs = 60_000 } = {}): Promise<OrganizationStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waitSeconds = Math.max(0, Math.min(10, Math.floor((deadline - Date.now()) / 1000)));
    const { data, error, response } = await client.GET('/organizations/{id}/status', {
      params: { path: { id }, header: { Prefer: `wait=${waitSeconds}` } },
    });
    if (!data) throw new Error(`GET /organizations/${id}/status answered ${response.status}: ${error?.detail ?? 'no body'}`);
    if (SETTLED_STATUSES.includes(data.status)) return data;
    if (Date.now() >= deadline) throw new Error(`organization ${id} is still ${data.status} after ${timeoutMs} ms`);
  }
}
