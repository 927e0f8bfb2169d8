import type { DatabaseServer } from '@orgms/common/fleet/database-server-store';
import type { ServerDirectory } from '@orgms/common/fleet/server-directory';
import type { Organization } from '@orgms/common/organizations/organization.entity';
import { JobFailure } from '../job-failure';

/** The server of an organization's database, for the worker's jobs. */
export class OrganizationServers {
  constructor(readonly directory: ServerDirectory) {}

  async of(org: Pick<Organization, 'id' | 'databaseServerId'>): Promise<DatabaseServer> {
    // Every organization gets a server at creation (and older ones at start, fleet-startup.ts).
    if (!org.databaseServerId) throw new JobFailure(`organization ${org.id} has no database server`, { permanent: true });
    return this.directory.get(org.databaseServerId);
  }
}
