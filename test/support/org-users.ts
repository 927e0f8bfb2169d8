import { withDatabase } from '@orgms/common/database/database-urls';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { Client } from 'pg';
import { type CreatedOrg, createOrganization, waitForStatus } from './organizations';
import type { TestStack } from './stack';

/** An organization that the worker has provisioned, with its first admin's credentials. */
export async function createActiveOrganization(
  stack: TestStack,
  overrides: Partial<{ organization_name: string; email: string; password: string }> = {},
): Promise<CreatedOrg> {
  const org = await createOrganization(stack, overrides);
  await waitForStatus(stack, org.id, ['active']);
  return org;
}

/** `POST /admin/login` by organization id; returns the bearer token. */
export async function orgLogin(stack: TestStack, orgId: string, email: string, password: string): Promise<string> {
  const res = await stack.request.post('/admin/login').send({ organization_id: orgId, email, password }).expect(200);
  return res.body.access_token as string;
}

export const auth = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Reads an organization's own database directly (what the API must or must not have changed). */
export async function queryOrgDatabase<T = Record<string, unknown>>(stack: TestStack, orgId: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: withDatabase(stack.config.tenancy.serverUrl, databaseNameFor(orgId, stack.config.tenancy.databasePrefix)) });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A stable picture of an org's users table, to prove a refused request changed nothing. */
export function usersSnapshot(stack: TestStack, orgId: string): Promise<unknown[]> {
  return queryOrgDatabase(stack, orgId, 'SELECT id, email, password_hash, role, is_active, token_version, updated_at FROM users ORDER BY id');
}
