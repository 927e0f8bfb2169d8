import type { OrphanReport } from '@orgms/common/tenancy/orphans';
import type { OrphanListBody } from './fleet.responses';

/** The orphan report: `status` is null when no organization row owns the database. */
export function presentOrphans(report: OrphanReport): OrphanListBody {
  return {
    items: report.orphans.map((o) => ({ kind: o.kind, database: o.database, server: o.server, org_id: o.orgId, status: o.status ?? null })),
    unreachable_servers: report.unreachableServers,
  };
}
