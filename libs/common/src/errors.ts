/**
 * The one error family of the service. Services throw these; the API maps them to
 * `application/problem+json` in exactly one place (apps/api/src/http/error-handler.ts). How a
 * job fails is the worker's own JobFailure (apps/worker/src/job-failure.ts).
 */
export interface FieldError {
  field: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(
    detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(400, 'validation-error', 'Your request is not valid', detail, { errors });
  }
}

export class BadRequestError extends AppError {
  constructor(detail: string, code = 'bad-request') {
    super(400, code, 'Bad request', detail);
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail = 'A valid bearer token is required.') {
    super(401, 'unauthorized', 'Unauthorized', detail);
  }
}

export class ForbiddenError extends AppError {
  constructor(detail = 'You are not allowed to do this.') {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail = 'No such resource.') {
    super(404, 'not-found', 'Not found', detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, extra: Record<string, unknown> = {}) {
    super(409, 'conflict', 'Conflict', detail, extra);
  }
}

/** The request is well formed but contradicts an earlier one (an Idempotency-Key reused with another body). */
export class UnprocessableEntityError extends AppError {
  constructor(detail: string) {
    super(422, 'unprocessable-entity', 'Unprocessable entity', detail);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(detail: string) {
    super(415, 'unsupported-media-type', 'Unsupported media type', detail);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    detail: string,
    readonly retryAfterSeconds: number,
    code = 'too-many-requests',
    extra: Record<string, unknown> = {},
  ) {
    super(429, code, 'Too many requests', detail, extra);
  }
}

/** The request rate limit one caller went over (docs/api/limits.md). */
export interface ExceededRate {
  /** `reads`, `writes` or `expensive`. */
  requestClass: string;
  /** Whose requests count together: an organization's users, or one platform admin. */
  scope: 'organization' | 'platform_admin';
  limit: number;
  windowSeconds: number;
}

/** Over a request rate limit: a 429 naming the limit, so a client can see which one to respect. */
export class RateLimitedError extends TooManyRequestsError {
  constructor(exceeded: ExceededRate, retryAfterSeconds: number) {
    const who = exceeded.scope === 'organization' ? 'this organization' : 'this platform admin';
    super(
      `Over the limit of ${exceeded.limit} ${exceeded.requestClass} per ${exceeded.windowSeconds} s for ${who}; try again in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
      'rate-limited',
      { rate_limit: { class: exceeded.requestClass, scope: exceeded.scope, limit: exceeded.limit, window_seconds: exceeded.windowSeconds } },
    );
  }
}

/** Something the request needs is unavailable for now; the answer tells when to try again. */
export class ServiceUnavailableError extends AppError {
  constructor(
    detail = 'A backing service is unavailable; try again shortly.',
    readonly retryAfterSeconds = 5,
    extra: Record<string, unknown> = {},
    code = 'service-unavailable',
    title = 'Service unavailable',
  ) {
    super(503, code, title, detail, extra);
  }
}

/**
 * Every connection of one organization's pool stayed in use (its database is slow or locked) for
 * the whole bounded wait: that organization is told to try again, and no other waits for it.
 */
export class OrganizationDatabaseBusyError extends ServiceUnavailableError {
  constructor(detail: string, retryAfterSeconds: number) {
    super(detail, retryAfterSeconds, {}, 'organization-database-busy', 'Organization database busy');
  }
}

/**
 * PostgreSQL or Redis gave no answer within its bound (DATABASE_*_TIMEOUT_MS,
 * REDIS_COMMAND_TIMEOUT_MS), as when the network to it stalls: the request is refused now rather
 * than left waiting as long as the stall lasts.
 */
export class DependencyTimeoutError extends ServiceUnavailableError {
  constructor(dependency: 'database' | 'redis', retryAfterSeconds: number) {
    const what = dependency === 'database' ? 'The database' : 'Redis';
    super(`${what} did not answer in time; try again shortly.`, retryAfterSeconds, {}, 'dependency-timeout', 'Dependency timed out');
  }
}

/**
 * The login throttle (its counters in Redis) cannot be read: the credential check is refused,
 * because letting it through unthrottled would let passwords be guessed at full speed.
 */
export class LoginThrottleUnavailableError extends ServiceUnavailableError {
  constructor(retryAfterSeconds: number) {
    super(
      'Sign-in attempts cannot be counted right now; try again shortly.',
      retryAfterSeconds,
      {},
      'login-throttle-unavailable',
      'Login throttle unavailable',
    );
  }
}

/** A write would grow an organization past one of its quotas; reads keep working. */
export class QuotaExceededError extends AppError {
  constructor(detail: string, extra: { quota: string; limit: number; usage: number }) {
    super(403, 'quota-exceeded', 'Quota exceeded', detail, extra);
  }
}
