import { execFile } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { controlQuery } from '../../harness/service-env';
import { addBenchUsers, type BenchServer, connect, onDatabase, serverOfOrganization } from '../lib/fleet';
import type { ServiceClient } from '../lib/service';
import { type ResultRow, round } from '../lib/stats';

const run = promisify(execFile);

/**
 * Scenario 8: the purge of an organization with `users` users, from `DELETE …?purge=true` until it
 * is `purged` (archive written, read back with pg_restore --list, hashed again from disk, then the
 * database dropped), against the floor of the same work by hand on a copy of its database:
 * `pg_dump -Fc` to a file, `pg_restore --list`, and `DROP DATABASE`, on the server the
 * organization was placed on (one of `servers`).
 */
export async function archivePurge(client: ServiceClient, users: number, archiveDir: string, servers: BenchServer[]): Promise<ResultRow[]> {
  const id = await client.createOrganization(`Archive ${client.env.id}`);
  await client.waitActive(id);
  const database = databaseNameFor(id, client.env.orgPrefix);
  const server = await serverOfOrganization(client, id, servers);
  await addBenchUsers(client, id, users, servers);

  // The floor, on a copy, so the organization's own database is untouched for the service.
  const copy = `${database}_floor`;
  const admin = await connect(server.adminUrl);
  const floorFile = join(archiveDir, 'floor.dump');
  let floorMs: number;
  try {
    await admin.query(`CREATE DATABASE "${copy}" TEMPLATE "${database}"`);
    const started = performance.now();
    await run('pg_dump', ['-Fc', '--no-owner', '--no-acl', '-f', floorFile, '-d', onDatabase(server.adminUrl, copy)]);
    await run('pg_restore', ['--list', floorFile]);
    await admin.query(`DROP DATABASE "${copy}" WITH (FORCE)`);
    floorMs = performance.now() - started;
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${copy}" WITH (FORCE)`);
    await admin.end();
    await rm(floorFile, { force: true });
  }

  const started = performance.now();
  const purge = await client.request('DELETE', `/organizations/${id}?purge=true`);
  if (purge.status !== 202) throw new Error(`DELETE ?purge=true answered ${purge.status}: ${JSON.stringify(purge.body)}`);
  await client.waitStatus(id, 'purged');
  const serviceMs = performance.now() - started;
  const [archive] = await controlQuery<{ file_name: string; size_bytes: string }>(
    client.env,
    `SELECT file_name, size_bytes FROM organization_dumps WHERE org_id = $1 AND kind = 'archive' AND status = 'verified'`,
    [id],
  );
  const bytes = (await stat(join(archiveDir, archive.file_name))).size;
  if (bytes !== Number(archive.size_bytes)) throw new Error('the archive on disk is not the size recorded');
  const scenario = `8 archive and purge (${users} users)`;
  return [
    {
      scenario,
      metric: 'DELETE ?purge=true → purged (archive, verify, drop)',
      unit: 'ms',
      service: round(serviceMs),
      floor: round(floorMs),
      ratio: round(serviceMs / floorMs, 2),
    },
    { scenario, metric: 'archive size', unit: 'KB', service: round(bytes / 1024) },
  ];
}
