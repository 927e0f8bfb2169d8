import { setTimeout as sleep } from 'node:timers/promises';
import { BadRequestError } from '@orgms/common/errors';
import type { DatabaseServer, DatabaseServerChanges, DatabaseServerStore, NewDatabaseServer } from '@orgms/common/fleet/database-server-store';
import { PROBE_TIMEOUT_MS, type ProbeResult } from '@orgms/common/fleet/server-probe';
import type { OrganizationStore } from '@orgms/common/organizations/organization-store';

/** A server with what it holds now: live organizations, moving copies included. */
export interface DatabaseServerWithLoad extends DatabaseServer {
  organizations: number;
}

/**
 * The fleet as platform admins manage it (`/database-servers`, `npm run servers:*`). A server is
 * registered only if its admin URL connects and may create databases, so a typo is a 400 with
 * the reason at once, not failed provisioning later. It must also be allowed to create roles
 * (each organization's own login role) unless the request says `tenant_roles: false`: a managed
 * PostgreSQL without CREATEROLE is then used with the shared role on purpose, never by surprise.
 */
export class DatabaseServersService {
  constructor(
    private readonly deps: {
      servers: DatabaseServerStore;
      organizations: Pick<OrganizationStore, 'liveCountsByServer'>;
      probe: (adminUrl: string) => Promise<ProbeResult>;
      /** Closes the server's shared databases to organization roles (fleet/server-lockdown.ts); never throws. */
      lockDown: (server: DatabaseServer) => Promise<unknown>;
      /** Told after every change, so this process places on the fleet as it is now. */
      onChange?: () => void;
    },
  ) {}

  async list(): Promise<DatabaseServerWithLoad[]> {
    const [servers, load] = await Promise.all([this.deps.servers.list(), this.deps.organizations.liveCountsByServer()]);
    return servers.map((server) => ({ ...server, organizations: load.get(server.id) ?? 0 }));
  }

  async get(id: string): Promise<DatabaseServerWithLoad> {
    const [server, load] = await Promise.all([this.deps.servers.get(id), this.deps.organizations.liveCountsByServer()]);
    return { ...server, organizations: load.get(server.id) ?? 0 };
  }

  async add(server: NewDatabaseServer): Promise<DatabaseServerWithLoad> {
    await this.assertUsable(server.adminUrl, server.tenantRoles ?? true);
    const created = await this.deps.servers.create(server);
    await this.deps.lockDown(created);
    this.deps.onChange?.();
    return { ...created, organizations: 0 };
  }

  async update(id: string, changes: DatabaseServerChanges): Promise<DatabaseServerWithLoad> {
    if (changes.adminUrl !== undefined) await this.assertUsable(changes.adminUrl, (await this.deps.servers.get(id)).tenantRoles);
    const updated = await this.deps.servers.update(id, changes);
    // Another admin or pool role must keep CONNECT; a new URL may even name another server.
    if (changes.adminUrl !== undefined || changes.poolUrl !== undefined) await this.deps.lockDown(updated);
    this.deps.onChange?.();
    return this.get(id);
  }

  private async assertUsable(adminUrl: string, tenantRoles: boolean): Promise<void> {
    const started = performance.now();
    const probe = await this.deps.probe(adminUrl);
    if (!probe.ok) {
      // A refused port fails at once and a filtered one at the probe's timeout: every refusal waits
      // for the timeout, so its timing does not tell them apart any more than its reason does.
      await sleep(Math.max(0, PROBE_TIMEOUT_MS - (performance.now() - started)));
      // The reason names the host and the role's rights, never the password or a file (server-probe.ts).
      throw new BadRequestError(`The database server cannot be used: ${probe.reason}.`, 'database-server-unusable');
    }
    if (tenantRoles && !probe.mayCreateRoles) {
      throw new BadRequestError(
        'The database server cannot be used: the role may not create roles (needs CREATEROLE), which each organization’s own login role needs; ' +
          'grant it, or register the server with "tenant_roles": false to have its organizations use this shared role.',
        'database-server-unusable',
      );
    }
  }
}
