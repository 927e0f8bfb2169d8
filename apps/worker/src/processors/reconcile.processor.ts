import { randomUUID } from 'node:crypto';
import { runWithContext } from '@orgms/common/request-context';
import type { Job } from 'bullmq';
import type { ReconcilerService } from '../services/reconciler.service';

export function createReconcileProcessor(service: ReconcilerService) {
  return (job: Job) => runWithContext({ requestId: `reconcile-${randomUUID()}`, jobId: job.id }, () => service.reconcile());
}
