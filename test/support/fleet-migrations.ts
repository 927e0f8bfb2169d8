import { setTimeout as sleep } from 'node:timers/promises';
import { latestTenantMigration, tenantMigrations } from '@orgms/migrations';
import { queryControlDatabase } from './control-database';
import { databaseOf, withClient } from './org-databases';
import type { TestStack } from './stack';

/** The tenant migration before the latest: where a rolled-back organization stands. */
export const previousTenantMigration = tenantMigrations[tenantMigrations.length - 2].name;

/**
 * Puts an organization back to the previous tenant migration, as if it was created before the
 * latest release. `broken`: its database keeps the column but loses the record of it, so the
 * migration fails on it. `databaseMigrated`: only the control database forgets, as after a crash
 * between the migration's commit and its record.
 */
export async function rollBackTenantMigration(stack: TestStack, orgId: string, state: 'behind' | 'broken' | 'databaseMigrated'): Promise<void> {
  if (state !== 'databaseMigrated') {
    await withClient(
      stack,
      async (c) => {
        if (state === 'behind') await c.query('ALTER TABLE users DROP COLUMN last_login_at');
        await c.query('DELETE FROM tenant_migrations WHERE name = $1', [latestTenantMigration]);
      },
      databaseOf(stack, orgId),
    );
  }
  await queryControlDatabase(stack, 'UPDATE organizations SET schema_version = $2 WHERE id = $1', [orgId, previousTenantMigration]);
}

/** Polls a fleet migration run (its Location) as the platform admin until it is completed (60 s at most). */
export async function waitForMigrationRun(stack: TestStack, location: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const res = await stack.request
      .get(location)
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .expect(200);
    if (res.body.status === 'completed') return res.body;
    await sleep(100);
  }
  throw new Error(`run ${location} did not complete`);
}
