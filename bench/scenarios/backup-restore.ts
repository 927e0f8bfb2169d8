import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { addBenchUsers, type BenchServer, organizationDatabaseUrl } from '../lib/fleet';
import { inPool, type ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';
import { createActiveOrganizations } from './many-tenants';

const run = promisify(execFile);

/** BACKUP_CONCURRENCY's default: the scheduled backups one database server runs at once. */
const BACKUP_CONCURRENCY = 2;

export interface BackupSizes {
  /** Users of every organization backed up (issue 24 asks for the figures at 10,000). */
  users: number;
  /** Organizations backed up for the throughput figure. */
  organizations: number;
}

/** Polls a backup (its route has no long-poll) until it is verified; throws when it failed. */
async function waitVerified(client: ServiceClient, orgId: string, backupId: string): Promise<Record<string, unknown>> {
  for (;;) {
    const res = await client.request('GET', `/organizations/${orgId}/backups/${backupId}`);
    if (res.body.status === 'verified') return res.body;
    if (res.status >= 400 || res.body.status === 'failed') throw new Error(`backup ${backupId}: ${JSON.stringify(res.body)}`);
    await sleep(25);
  }
}

/**
 * `POST …/backups` until verified. A scheduled backup the sweep started meanwhile answers 409
 * naming it: that one is waited for and the manual one asked for again, so every figure is one
 * whole backup.
 */
async function backupNow(client: ServiceClient, orgId: string): Promise<{ ms: number; backup: Record<string, unknown> }> {
  for (;;) {
    const started = performance.now();
    const res = await client.request('POST', `/organizations/${orgId}/backups`);
    if (res.status === 409 && typeof res.body.backup_id === 'string') {
      await waitVerified(client, orgId, res.body.backup_id);
      continue;
    }
    if (res.status !== 202) throw new Error(`POST /organizations/${orgId}/backups answered ${res.status}: ${JSON.stringify(res.body)}`);
    const backup = await waitVerified(client, orgId, res.body.id as string);
    return { ms: performance.now() - started, backup };
  }
}

/** Follows the status with long-polls until `active`; a restore rolled back (active with `last_error`) throws. */
async function waitRestored(client: ServiceClient, orgId: string): Promise<void> {
  for (;;) {
    const res = await client.request('GET', `/organizations/${orgId}/status`, undefined, { prefer: 'wait=30' });
    if (res.body.status === 'active' && !res.body.last_error) return;
    if (res.status >= 400 || res.body.status === 'failed' || res.body.last_error) throw new Error(`organization ${orgId}: ${JSON.stringify(res.body)}`);
  }
}

/**
 * Scenario 10: the backups and restores of an organization with `users` users: a manual backup
 * (`POST …/backups` → `verified`, beside the floor of `pg_dump -Fc` + `pg_restore --list` by
 * hand), an in-place restore (`POST …/restore` → `active` again: pre_restore backup, restore into
 * staging, verify, swap, drop) and a sandbox restore (→ the new organization `active`). Then the
 * throughput of one server: `organizations` organizations of the same size backed up with at most
 * BACKUP_CONCURRENCY at once, as the `backups` sweep runs them; backups/hour = 3600 / (wall / n).
 */
export async function backupRestore(client: ServiceClient, sizes: BackupSizes, scratchDir: string, servers: BenchServer[]): Promise<ResultRow[]> {
  const scenario = `10 backup and restore (${sizes.users} users)`;
  const id = await client.createOrganization(`Backup ${client.env.id}`);
  await client.waitActive(id);
  await addBenchUsers(client, id, sizes.users, servers);

  const floorFile = join(scratchDir, 'backup-floor.dump');
  const database = await organizationDatabaseUrl(client, id, servers);
  const floorStarted = performance.now();
  try {
    await run('pg_dump', ['-Fc', '--no-owner', '--no-acl', '-f', floorFile, '-d', database]);
    await run('pg_restore', ['--list', floorFile]);
  } finally {
    await rm(floorFile, { force: true });
  }
  const floorMs = performance.now() - floorStarted;

  const manual = await backupNow(client, id);

  const inPlaceStarted = performance.now();
  const inPlace = await client.request('POST', `/organizations/${id}/backups/${manual.backup.id}/restore`, { mode: 'in_place' });
  if (inPlace.status !== 202) throw new Error(`in-place restore answered ${inPlace.status}: ${JSON.stringify(inPlace.body)}`);
  await waitRestored(client, id);
  const inPlaceMs = performance.now() - inPlaceStarted;

  const sandboxStarted = performance.now();
  const sandbox = await client.request('POST', `/organizations/${id}/backups/${manual.backup.id}/restore`, {
    mode: 'new_organization',
    organization_name: `Sandbox ${client.env.id}`,
  });
  if (sandbox.status !== 202) throw new Error(`sandbox restore answered ${sandbox.status}: ${JSON.stringify(sandbox.body)}`);
  await client.waitActive(sandbox.body.id as string);
  const sandboxMs = performance.now() - sandboxStarted;

  const fleet = await createActiveOrganizations(client, sizes.organizations, 'Backed up');
  await inPool(fleet.ids, sizes.organizations, (orgId) => addBenchUsers(client, orgId, sizes.users, servers));
  const wallStarted = performance.now();
  await inPool(fleet.ids, BACKUP_CONCURRENCY, async (orgId) => {
    await backupNow(client, orgId);
  });
  const wallMs = performance.now() - wallStarted;
  const perHour = 3600000 / (wallMs / sizes.organizations);

  return [
    { scenario, metric: 'manual backup: POST → verified', unit: 'ms', service: round(manual.ms), floor: round(floorMs), ratio: round(manual.ms / floorMs, 2) },
    { scenario, metric: 'backup size', unit: 'KB', service: round(Number(manual.backup.size_bytes) / 1024) },
    { scenario, metric: 'in-place restore: POST restore → active', unit: 'ms', service: round(inPlaceMs) },
    { scenario, metric: 'sandbox restore: POST restore → new organization active', unit: 'ms', service: round(sandboxMs) },
    {
      scenario,
      metric: `${sizes.organizations} backups, ${BACKUP_CONCURRENCY} at once (BACKUP_CONCURRENCY): wall time`,
      unit: 'ms',
      service: round(wallMs),
    },
    { scenario, metric: 'backups per hour, one server', unit: '/h', service: round(perHour) },
  ];
}
