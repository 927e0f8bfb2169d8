/**
 * The database server fleet from the command line, through the API's own schema and service
 * (`POST`/`GET /database-servers`):
 *   npm run servers:add   -- --name pg-b --admin-url postgres://… [--pool-url postgres://…] --capacity 500 --connection-budget 40
 *   npm run servers:list
 *   npm run servers:drain -- --name pg-a      (no new organizations go there; a drain run moves the others off)
 * `add` connects to the server first and refuses, with the reason, one whose role may not create
 * databases. URLs are sealed with SECRETS_KEY like the API does, and printed masked.
 */

import { randomUUID } from 'node:crypto';
import { presentDatabaseServer, presentDatabaseServerList } from '@orgms/api/fleet/database-server.presenter';
import { DatabaseServersService } from '@orgms/api/fleet/database-servers.service';
import { DrainsService } from '@orgms/api/fleet/drains.service';
import { loadConfig } from '@orgms/common/config';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { prepareFleet } from '@orgms/common/fleet/fleet-startup';
import { lockDownServer } from '@orgms/common/fleet/server-lockdown';
import { probeServer } from '@orgms/common/fleet/server-probe';
import { TrackedRunStore } from '@orgms/common/fleet-migrations/tracked-run-store';
import { createLogger } from '@orgms/common/logger';
import { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { createMigrationsQueue } from '@orgms/common/queues/migrations-queue';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { SecretBox } from '@orgms/common/secret-box';
import { formatServerTable, parseDatabaseServersCommand } from './database-servers-command';

async function main(): Promise<void> {
  const args = parseDatabaseServersCommand(process.argv.slice(2));
  const config = loadConfig();
  await ensureControlDatabaseExists(config.database);
  const dataSource = await createControlDataSource(config.database, 2).initialize();
  try {
    await migrateControlDatabase(dataSource);
    const servers = new DatabaseServerStore(dataSource, new SecretBox(config.secrets.current, config.secrets.previous));
    const organizations = new OrganizationStore(dataSource);
    // What the API and the worker do at start: `default` exists before anything is added next to it.
    const logger = createLogger('cli', 'warn');
    await prepareFleet(config.tenancy, servers, organizations, logger);
    const databaseServers = new DatabaseServersService({
      servers,
      organizations,
      probe: probeServer,
      lockDown: (server) => lockDownServer(server, config.tenancy.databasePrefix, logger),
    });
    switch (args.command) {
      case 'add': {
        const server = presentDatabaseServer(await databaseServers.add(args.server));
        console.log(
          `database server ${server.name} added (id ${server.id}): ${server.admin_url}, capacity ${server.capacity}, budget ${server.connection_budget}`,
        );
        break;
      }
      case 'list':
        console.log(formatServerTable(presentDatabaseServerList(await databaseServers.list()).items));
        break;
      case 'drain': {
        const server = await servers.findByName(args.name);
        if (!server) throw new Error(`no database server is named "${args.name}"`);
        // The same service as POST /database-servers/{id}/drain: draining, then a drain run the worker carries out.
        const redis = createRedis(config.queue, 'worker');
        const queue = createMigrationsQueue(config.queue, redis);
        try {
          const drains = new DrainsService({ servers, runs: new TrackedRunStore(dataSource), queue, logger });
          const drain = await drains.drain(server.id, `cli-${randomUUID()}`);
          const held = (await organizations.liveCountsByServer()).get(server.id) ?? 0;
          console.log(`database server ${server.name} is draining: no new organizations are placed on it (${held} still there)`);
          console.log(`drain ${drain.id} started; follow GET /database-servers/${server.id}/drains/${drain.id}`);
        } finally {
          await queue.close();
          await closeRedis(redis);
        }
        break;
      }
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error) => {
  console.error(`servers: ${(error as Error).message}`);
  process.exit(1);
});
