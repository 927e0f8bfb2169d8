import { withDatabase } from '@orgms/common/database/database-urls';
import { lockDownSharedDatabases } from '@orgms/common/database/shared-databases';
import { createTenantDataSource } from '@orgms/common/database/tenant-data-source';
import type { Logger } from '@orgms/common/logger';
import { stagingNameFor, templateMarkerFor, templateNameFor } from '@orgms/common/tenancy/database-names';
import { latestTenantMigration } from '@orgms/migrations';
import { JobFailure } from '../job-failure';
import { DatabaseAdmin, templateLockKey } from './database-admin';

export type TemplateRefreshOutcome = 'current' | 'created' | 'migrated';

/** Name and expected marker of the template for the code's latest tenant migration. */
export function currentTemplate(databasePrefix: string): { name: string; marker: string } {
  return { name: templateNameFor(databasePrefix), marker: templateMarkerFor(latestTenantMigration) };
}

/**
 * Brings `<prefix>template` on the server of `adminUrl` (each server has its own) to the latest
 * tenant migration (docs/architecture.md, "Template fast path"). Runs under the
 * template's advisory lock, so no clone copies it half-migrated, and closes its own pool
 * before releasing the lock, because PostgreSQL refuses to copy a template that has sessions.
 * The marker is written last: until then clones see an old version and take the slow path.
 * A new template is closed to PUBLIC before anything is in it: organizations' roles, which exist
 * server-wide, must not log in there.
 */
export async function refreshTemplate(adminUrl: string, databasePrefix: string, logger: Logger): Promise<TemplateRefreshOutcome> {
  const { name, marker } = currentTemplate(databasePrefix);
  const admin = await DatabaseAdmin.connect(adminUrl);
  try {
    return await admin.withLock(templateLockKey(name), async () => {
      const existing = await admin.markerOf(name);
      if (existing === marker) return 'current';
      if (existing === undefined) {
        // Built under a staging name and renamed, like org databases: a crash leaves no half template.
        const staging = stagingNameFor(name);
        await admin.dropDatabaseIfExists(staging);
        await admin.createDatabase(staging);
        await lockDownSharedDatabases(adminUrl, [staging], [], logger);
        await migrate(adminUrl, staging);
        await admin.setMarker(staging, marker);
        await admin.rename(staging, name);
        return 'created';
      }
      if (!existing?.startsWith('orgms:template:')) {
        throw new JobFailure(`a database named ${name} exists and is not our template; drop or rename it`, { permanent: true });
      }
      await migrate(adminUrl, name);
      await admin.setMarker(name, marker);
      return 'migrated';
    });
  } finally {
    await admin.close();
  }
}

async function migrate(adminUrl: string, databaseName: string): Promise<void> {
  const dataSource = await createTenantDataSource(withDatabase(adminUrl, databaseName), 1).initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}
