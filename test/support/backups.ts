import { setTimeout as sleep } from 'node:timers/promises';
import { auth } from './org-users';
import type { TestStack } from './stack';

/** Polls a backup until it ends (`verified` or `failed`) and answers its representation. */
export async function backupEnded(stack: TestStack, orgId: string, backupId: string, token: string, timeoutMs = 60000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await stack.request.get(`/organizations/${orgId}/backups/${backupId}`).set(auth(token)).expect(200);
    if (res.body.status === 'verified' || res.body.status === 'failed') return res.body;
    if (Date.now() > deadline) throw new Error(`backup still ${res.body.status}`);
    await sleep(100);
  }
}

/** Asks for a backup of the organization and waits until it is verified; a failed one throws. Answers its id. */
export async function verifiedBackup(stack: TestStack, orgId: string, token: string): Promise<string> {
  const res = await stack.request.post(`/organizations/${orgId}/backups`).set(auth(token)).expect(202);
  const backup = await backupEnded(stack, orgId, res.body.id, token);
  if (backup.status !== 'verified') throw new Error(`backup ${backup.status}: ${backup.error}`);
  return res.body.id as string;
}
