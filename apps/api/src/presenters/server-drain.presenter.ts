import type { ServerDrain } from '@orgms/common/control-plane/server-drain-store';
import type { ServerDrainBody } from '../openapi/response-schemas';

const iso = (at: Date | null) => (at ? new Date(at).toISOString() : null);

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
    // Not planned yet while queued: 0 rather than a misleading 100%.
    progress: total === 0 ? (drain.status === 'completed' ? 1 : 0) : Number(((total - pending) / total).toFixed(4)),
    failures: drain.failures.map((f) => ({ org_id: f.orgId, error: f.error, finished_at: iso(f.finishedAt) })),
    created_at: new Date(drain.createdAt).toISOString(),
    started_at: iso(drain.startedAt),
    finished_at: iso(drain.finishedAt),
  };
}
