/**
 * `npm run org:restore -- --archive <file> [--name <name>] [--email <admin email>] [--no-wait]`
 *
 * Recreates an organization from an archive (a purge's `pg_dump -Fc`): a new organization, with a
 * new id and database, placed like any new one, whose users come from the archive. A worker does
 * the work (provisioning restores the archive instead of cloning the template, then migrates it to
 * the current schema). The name and admin email default to those of the organization the archive
 * was made of; a file this installation did not record (another installation's) needs both, and is
 * first copied into ARCHIVE_DIR and recorded. The name and email pass the rules of POST /organizations
 * (refused with its messages otherwise). Exits 1 when the organization ends `failed`.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@orgms/common/config';
import { hashFile } from '@orgms/common/data-safety/file-hash';
import { type OrganizationArchive, OrganizationDumpStore } from '@orgms/common/data-safety/organization-dump-store';
import { runPgRestore } from '@orgms/common/data-safety/pg-dump';
import { createControlDataSource, ensureControlDatabaseExists, migrateControlDatabase } from '@orgms/common/database/control-data-source';
import { DatabaseServerStore } from '@orgms/common/fleet/database-server-store';
import { prepareFleet } from '@orgms/common/fleet/fleet-startup';
import { PlacementService } from '@orgms/common/fleet/placement-service';
import { ServerDirectory } from '@orgms/common/fleet/server-directory';
import { ServerReachability } from '@orgms/common/fleet/server-probe';
import { createLogger } from '@orgms/common/logger';
import { checkedOrganizationIdentity } from '@orgms/common/organizations/new-organization-fields';
import { OrganizationStore } from '@orgms/common/organizations/organization-store';
import { slugify } from '@orgms/common/organizations/slug';
import { createProvisioningQueue, organizationJobs } from '@orgms/common/queues/provisioning-queue';
import { closeRedis, createRedis } from '@orgms/common/queues/redis';
import { createTenantWorkQueue } from '@orgms/common/queues/tenant-work-queue';
import { SecretBox } from '@orgms/common/secret-box';
import { databaseNameFor } from '@orgms/common/tenancy/database-names';
import { parseArgs } from './args';

const USAGE = 'usage: npm run org:restore -- --archive <file> [--name <organization name>] [--email <admin email>] [--no-wait]';

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.archive) throw new Error(USAGE);
  // The rules and messages of POST /organizations, before anything is read or written.
  const given = checkedOrganizationIdentity({ organization_name: args.name, email: args.email });
  const config = loadConfig();
  const file = resolve(args.archive);
  const listed = await runPgRestore(['--list', file]);
  if (listed.code !== 0) throw new Error(`${file} is not a readable pg_dump archive: ${listed.errors.trim().slice(0, 300)}`);

  await ensureControlDatabaseExists(config.database);
  const dataSource = await createControlDataSource(config.database, 2).initialize();
  const redis = createRedis(config.queue, 'worker');
  const queues = { provisioning: createProvisioningQueue(config.queue, redis), tenantWork: createTenantWorkQueue(config.queue, redis) };
  try {
    await migrateControlDatabase(dataSource);
    const organizations = new OrganizationStore(dataSource);
    const archives = new OrganizationDumpStore(dataSource);
    const servers = new DatabaseServerStore(dataSource, new SecretBox(config.secrets.current, config.secrets.previous));
    await prepareFleet(config.tenancy, servers, organizations, createLogger('cli', 'warn'));

    const archive = await recordedArchive(archives, file, config.archives.dir);
    const source = archive.orgId ? await organizations.get(archive.orgId) : undefined;
    const name = given.organization_name ?? source?.name;
    const email = given.email ?? source?.adminEmail;
    if (!name || !email) throw new Error(`this archive was not made here: give --name and --email\n${USAGE}`);
    // A name recorded before today's rules may not pass them; the message says which one to give.
    checkedOrganizationIdentity({ organization_name: name, email });

    // Placed as the API places a new organization: among active, reachable servers, the one with most room.
    const placement = new PlacementService({ servers: new ServerDirectory(servers), reachability: new ServerReachability() });
    const candidates = await placement.candidates();
    const id = randomUUID();
    const requestId = `cli-restore-${randomUUID()}`;
    await organizations.create(
      {
        id,
        name,
        slug: slugify(name),
        databaseName: databaseNameFor(id, config.tenancy.databasePrefix),
        adminEmail: email,
        pendingAdminPasswordHash: null,
        restoredFromArchiveId: archive.id,
      },
      {
        requestId,
        place: (liveByServer) => placement.choose(candidates, liveByServer).id,
      },
    );
    await organizationJobs(queues).provisionNew({ orgId: id, requestId });
    console.log(`organization ${id} ("${name}") recorded from archive ${archive.fileName}; a worker restores it`);
    if (args['no-wait'] !== undefined) return 0;
    for (;;) {
      const org = await organizations.get(id);
      if (org.status === 'active') {
        console.log(`active: organization ${id} restored on ${org.databaseServer}`);
        return 0;
      }
      if (org.status === 'failed') {
        console.error(`failed: ${org.lastError}`);
        return 1;
      }
      await sleep(500);
    }
  } finally {
    await Promise.all([queues.provisioning.close(), queues.tenantWork.close()]);
    await closeRedis(redis);
    await dataSource.destroy();
  }
}

/**
 * The archive row of `file`, recognised by its SHA-256. A file not recorded here is copied into
 * ARCHIVE_DIR and recorded; a recorded one whose copy in ARCHIVE_DIR is gone is put back there.
 */
async function recordedArchive(archives: OrganizationDumpStore, file: string, dir: string): Promise<OrganizationArchive> {
  const digest = await hashFile(file);
  const known = await archives.findArchiveBySha256(digest.sha256);
  const target = join(dir, known?.fileName ?? `imported-${randomUUID()}.dump`);
  const present = await stat(target).then(
    () => true,
    () => false,
  );
  if (!present) {
    await mkdir(dir, { recursive: true });
    await copyFile(file, target);
  }
  if (known) return known;
  // A file from elsewhere has no manifest: its restore is checked by pg_restore alone.
  return archives.recordArchive({
    id: randomUUID(),
    orgId: null,
    databaseName: 'imported',
    fileName: target.slice(dir.length + 1),
    requestId: null,
    manifest: null,
    ...digest,
  });
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
