import { join } from 'node:path';
import type { DumpManifest, OrganizationBackup, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { redactPasswords, runPgRestore } from '@orgms/common/data-safety/pg-dump';
import { countTableRows, manifestDifferences } from '@orgms/common/data-safety/table-rows';
import { withDatabase } from '@orgms/common/database/database-urls';
import type { Logger } from '@orgms/common/logger';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { Client } from 'pg';
import type { OrganizationServers } from '../fleet/organization-servers';
import { backupRestoreTests } from '../metrics';
import { DatabaseAdmin } from '../tenancy/database-admin';
import { verifyDumpFile } from './dump-file';

/** How much of pg_restore's error output a failed drill reports. */
const MAX_TOOL_ERROR = 500;
/** Backups drilled per pass: each is a full restore on its organization's server. */
const DRILLS_PER_PASS = 2;

export interface RestoreDrillDeps {
  dumps: Pick<OrganizationDumpStore, 'drillCandidates' | 'recordRestoreTest' | 'recordRestoreTestFailure'>;
  store: Pick<OrganizationStore, 'get' | 'recordRestoreTestFailed'>;
  servers: Pick<OrganizationServers, 'of'>;
  /** BACKUP_DIR, absolute. */
  dir: string;
  logger: Logger;
}

/** The scratch database a drill restores into, next to the organization's own on its server; a crashed drill's is dropped by the next. */
export function drillDatabaseName(databaseName: string): string {
  return `${databaseName}_drill`;
}

/**
 * One pass of the restore drills: each organization's newest verified backup that no drill has
 * proved yet is restored into a scratch database on the organization's own server, its row
 * counts compared with the manifest, and the scratch database dropped. A pass records
 * `restore_tested_at`; a failure (a damaged file, a restore that fails, other counts) is an error
 * log line, `orgms_backup_restore_tests_total{outcome="failed"}` and the event
 * `backup.restore_test_failed` (webhook, audit), and the backup keeps the reason (drilled once).
 */
export async function drillRestores(deps: RestoreDrillDeps): Promise<{ passed: string[]; failed: string[] }> {
  const passed: string[] = [];
  const failed: string[] = [];
  for (const backup of await deps.dumps.drillCandidates(DRILLS_PER_PASS)) {
    const reason = await restoreAndCompare(deps, backup).then(
      () => undefined,
      (error: Error) => error.message,
    );
    if (reason === undefined) {
      await deps.dumps.recordRestoreTest(backup.id);
      backupRestoreTests.inc({ outcome: 'passed' });
      passed.push(backup.id);
      continue;
    }
    deps.logger.error('restore drill failed', { orgId: backup.orgId, backupId: backup.id, reason });
    backupRestoreTests.inc({ outcome: 'failed' });
    await deps.dumps.recordRestoreTestFailure(backup.id, `restore drill: ${reason}`);
    await deps.store.recordRestoreTestFailed(backup.orgId, { backupId: backup.id, reason });
    failed.push(backup.id);
  }
  return { passed, failed };
}

/** Restores the backup into the scratch database and throws, in our words, where it is not what its manifest says. */
async function restoreAndCompare({ store, servers, dir, logger }: RestoreDrillDeps, backup: OrganizationBackup): Promise<void> {
  const path = join(dir, backup.fileName as string);
  await verifyDumpFile(path, { sizeBytes: backup.sizeBytes as number, sha256: backup.sha256 as string, manifest: backup.manifest });
  const org = await store.get(backup.orgId);
  const server = await servers.of(org);
  const scratch = drillDatabaseName(org.databaseName);
  const url = withDatabase(server.adminUrl, scratch);
  const admin = await DatabaseAdmin.connect(server.adminUrl);
  try {
    await admin.dropDatabaseIfExists(scratch);
    await admin.createDatabase(scratch);
    const restored = await runPgRestore(['--no-owner', '--no-acl', '--exit-on-error', '-d', url, path]);
    if (restored.code !== 0) throw new Error(`pg_restore failed (exit ${restored.code}): ${redactPasswords(restored.errors, [url], MAX_TOOL_ERROR)}`);
    const differences = await manifestDifferencesAt(url, backup.manifest);
    if (differences.length > 0) throw new Error(`the restored rows differ from the manifest: ${differences.join('; ')}`);
  } finally {
    await admin
      .dropDatabaseIfExists(scratch)
      .catch((error) => logger.warn('could not drop a restore drill database', { database: scratch, error: (error as Error).message }));
    await admin.close();
  }
}

/** Where the database at `url` (a backup just restored) differs from the backup's manifest: one line per table. */
export async function manifestDifferencesAt(url: string, manifest: DumpManifest | null): Promise<string[]> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return manifestDifferences(manifest ?? {}, await countTableRows(client));
  } finally {
    await client.end().catch(() => undefined);
  }
}
