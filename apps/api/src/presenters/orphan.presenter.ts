import type { Orphan } from '@orgms/common/tenancy/orphans';
import type { OrphanListBody } from '../openapi/response-schemas';

/** The orphan report: `status` is null when no organization row owns the database. */
export function presentOrphans(orphans: Orphan[]): OrphanListBody {
  return { items: orphans.map((o) => ({ kind: o.kind, database: o.database, org_id: o.orgId, status: o.status ?? null })) };
}
