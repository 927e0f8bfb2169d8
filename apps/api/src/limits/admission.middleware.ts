import type { Request, RequestHandler, Response } from 'express';
import { preferredWait } from '../http/prefer-wait';
import { type Authentication, principalOf } from '../sign-in/authenticate';
import type { FairAdmission } from './fair-admission';

/** The lane a request waits in: its organization, its platform admin, or the unauthenticated. */
export function admissionLaneOf(res: Response): string {
  const principal = principalOf(res);
  if (!principal) return 'anonymous';
  return principal.role === 'platform_admin' ? `admin:${principal.sub}` : `org:${principal.org}`;
}

/**
 * Answers held open on purpose (an event stream, a `Prefer: wait` long-poll) mostly wait, using
 * no CPU; holding a slot for them would starve their organization's other requests.
 */
function heldOpen(req: Request): boolean {
  return req.path.endsWith('/events') || preferredWait(req) !== undefined;
}

/**
 * Runs after the token (and its request rate) is accepted: the request waits for its turn in
 * this replica's fair admission, and gives its slot back when its answer is finished or its
 * client goes away. A request is admitted once, however many routers check its token.
 */
export function admitFairly(admission: FairAdmission): RequestHandler {
  return (req, res, next) => {
    if (res.locals.admitted || heldOpen(req)) return next();
    res.locals.admitted = true;
    admission.admit(admissionLaneOf(res)).then((release) => {
      // A client gone while it waited has no answer to get: its turn is given back at once.
      if (res.destroyed || res.closed) return release();
      res.once('close', release);
      next();
    }, next);
  };
}

/** `authentication` with every accepted request then admitted fairly. */
export function withFairAdmission(authentication: Authentication, admission: FairAdmission): Authentication {
  const admit = admitFairly(admission);
  const thenAdmit =
    (authenticate: RequestHandler): RequestHandler =>
    (req, res, next) =>
      authenticate(req, res, (error?: unknown) => (error ? next(error) : admit(req, res, next)));
  return { ...authentication, required: thenAdmit(authentication.required), optional: thenAdmit(authentication.optional) };
}
