import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a log line should know about the work it belongs to. The API opens a context per
 * request; the worker opens one per job with the request id that travelled on the job, so a
 * request can be followed from the HTTP call into every job it caused.
 */
export interface RequestContext {
  requestId: string;
  jobId?: string;
  orgId?: string;
  /** The authenticated caller, once its token is verified: who the audit log says acted. */
  actor?: Actor;
}

/** Someone who can act: a platform admin, or a user of one organization. */
export interface Actor {
  kind: 'platform_admin' | 'org_user';
  id: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
