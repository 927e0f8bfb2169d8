/**
 * Platform admins from the command line (the first one, and what no API route does):
 *   npm run admin:create     -- --email a@b.c --password '…'
 *   npm run admin:password   -- --email a@b.c --password '…'   (revokes the admin's tokens)
 *   npm run admin:deactivate -- --email a@b.c                  (revokes; no login until activated)
 *   npm run admin:activate   -- --email a@b.c
 *   npm run admin:remove     -- --email a@b.c                  (revokes; the row is deleted)
 */

import { loadConfig } from '@orgms/common/config';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { type OrganizationEventMessage, organizationEventsChannel } from '@orgms/common/events/organization-events';
import { withTimeout } from '@orgms/common/process/timeout';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { PlatformAdminStore } from '@orgms/common/sign-in/platform-admin-store';
import { parsePlatformAdminCommand } from './platform-admin-command';

async function main(): Promise<void> {
  const args = parsePlatformAdminCommand(process.argv.slice(2));
  const { database, auth, queue } = loadConfig();
  await ensureControlDatabaseExists(database);
  const dataSource = await createControlDataSource(database, 2).initialize();
  // API replicas cache admins' token states: they must hear of a revocation made here.
  const redis = createRedis(queue, 'worker');
  const notices: Promise<unknown>[] = [];
  const publish = (message: OrganizationEventMessage) =>
    notices.push(withTimeout(redis.publish(organizationEventsChannel(queue), JSON.stringify(message)), 3000, 'telling the API replicas'));
  try {
    await migrateControlDatabase(dataSource);
    const admins = new PlatformAdminStore(dataSource, { publish });
    switch (args.command) {
      case 'create': {
        const admin = await admins.create(args.email, args.password, auth.bcryptRounds);
        console.log(`platform admin ${admin.email} created (id ${admin.id})`);
        break;
      }
      case 'password':
        await admins.changePassword(args.email, args.password, auth.bcryptRounds);
        console.log(`password of ${args.email} changed; its earlier tokens are revoked`);
        break;
      case 'deactivate':
        await admins.deactivate(args.email);
        console.log(`${args.email} deactivated; its tokens are revoked`);
        break;
      case 'activate':
        await admins.activate(args.email);
        console.log(`${args.email} activated`);
        break;
      case 'remove':
        await admins.remove(args.email);
        console.log(`${args.email} removed; its tokens are revoked`);
        break;
    }
    if ((await Promise.allSettled(notices)).some((notice) => notice.status === 'rejected')) {
      console.warn('Redis did not answer: API replicas drop their cached copy of this admin within 10 s instead of at once');
    }
  } finally {
    await closeRedis(redis);
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`admin: ${(error as Error).message}`);
  process.exit(1);
});
