import type { ServerDrain } from '@orgms/common/control-plane/server-drain-store';
import type { ServerDrainBody } from '../openapi/response-schemas';
import { isoOrNull, runProgress } from './run-progress';

export function presentServerDrain(drain: ServerDrain): ServerDrainBody {
  const { total, pending, succeeded, failed, skipped } = drain.totals;
  return {
    id: drain.id,
    server_id: drain.serverId,
    status: drain.status,
    total,
    succeeded,
    failed,
    skipped,
    pending,
    progress: runProgress(drain.totals, drain.status),
    failures: drain.failures.map((f) => ({ org_id: f.orgId, error: f.error, finished_at: isoOrNull(f.finishedAt) })),
    created_at: new Date(drain.createdAt).toISOString(),
    started_at: isoOrNull(drain.startedAt),
    finished_at: isoOrNull(drain.finishedAt),
  };
}
