import { setTimeout as sleep } from 'node:timers/promises';
import type { TestStack } from './stack';

let counter = 0;

/** A name no other test uses. */
export function uniqueName(label = 'Org'): string {
  counter += 1;
  return `${label} ${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface CreatedOrg {
  id: string;
  name: string;
  email: string;
  password: string;
}

export async function createOrganization(
  stack: TestStack,
  overrides: Partial<{ organization_name: string; email: string; password: string }> = {},
): Promise<CreatedOrg> {
  const body = { organization_name: uniqueName(), email: 'owner@example.test', password: 'correct horse battery', ...overrides };
  const res = await stack.request
    .post('/organizations')
    .set('Authorization', `Bearer ${await stack.adminToken()}`)
    .send(body)
    .expect(202);
  return { id: res.body.id, name: body.organization_name, email: body.email, password: body.password };
}

/** Polls the status route until the organization reaches one of `statuses`. */
export async function waitForStatus(stack: TestStack, id: string, statuses: string[], timeoutMs = 15000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await stack.request.get(`/organizations/${id}/status`).set('Authorization', `Bearer ${await stack.adminToken()}`);
    last = res.body;
    if (statuses.includes(res.body.status)) return res.body;
    await sleep(50);
  }
  throw new Error(`organization ${id} did not reach ${statuses.join('|')} in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

/** `DELETE /organizations/:id` as a platform admin: 200, `deleted` at once (its database kept for the grace period). */
export async function deleteOrganization(stack: TestStack, id: string): Promise<void> {
  const res = await stack.request
    .delete(`/organizations/${id}`)
    .set('Authorization', `Bearer ${await stack.adminToken()}`)
    .expect(200);
  if (res.body.status !== 'deleted') throw new Error(`DELETE answered ${res.body.status}, not deleted`);
}

/** `DELETE /organizations/:id?purge=true` as a platform admin (202), then waits until it is `purged`: archived, database dropped. */
export async function purgeOrganization(stack: TestStack, id: string, timeoutMs?: number): Promise<void> {
  await stack.request
    .delete(`/organizations/${id}?purge=true`)
    .set('Authorization', `Bearer ${await stack.adminToken()}`)
    .expect(202);
  await waitForStatus(stack, id, ['purged'], timeoutMs);
}
