import { isDatabaseTimeout, isTransactionConflict, isTransientDatabaseError } from '@orgms/common/database/database-errors';
import { AppError, DependencyTimeoutError, ServiceUnavailableError, TooManyRequestsError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import { isRedisCommandTimeout } from '@orgms/common/queues/redis';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { problemType, sendProblem } from './problem';
import { retryAfter } from './retry-after';

/** A database or Redis outage (or stall) usually lasts longer than a job poll: ask clients to back off a little more. */
const OUTAGE_RETRY_AFTER_SECONDS = 5;

/** body-parser's error types, mapped to what the client did wrong. */
const BODY_PARSER_ERRORS: Record<string, { status: number; code: string; title: string; detail: string }> = {
  'entity.parse.failed': { status: 400, code: 'malformed-json', title: 'Malformed JSON', detail: 'The request body is not valid JSON.' },
  'entity.too.large': { status: 413, code: 'payload-too-large', title: 'Payload too large', detail: 'The request body is larger than the server accepts.' },
  'encoding.unsupported': { status: 415, code: 'unsupported-encoding', title: 'Unsupported encoding', detail: 'The request body encoding is not supported.' },
  'charset.unsupported': { status: 415, code: 'unsupported-charset', title: 'Unsupported charset', detail: 'Send the request body as UTF-8.' },
  'request.aborted': { status: 400, code: 'request-aborted', title: 'Request aborted', detail: 'The request body was not received completely.' },
  'request.size.invalid': { status: 400, code: 'bad-request', title: 'Bad request', detail: 'The request body does not match its Content-Length.' },
};

/**
 * The one place where errors become HTTP answers: every error is `application/problem+json`,
 * unknown ones are a bare 500 (the details go to the log, never to the client).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (raised, req, res, _next) => {
    const error = dependencyTimeoutOf(raised, logger, req.method, req.path) ?? raised;
    const requestId = res.locals.requestId as string | undefined;
    // An answer already under way (a download whose client went away, or whose file failed) cannot
    // become a problem any more: end the connection, so the client sees a cut answer, never a
    // complete-looking one.
    if (res.headersSent) {
      logger.warn('error after the answer started; connection closed', { method: req.method, path: req.path, error: error?.message ?? String(error) });
      res.destroy();
      return;
    }
    if (error instanceof AppError) {
      if (error instanceof TooManyRequestsError || error instanceof ServiceUnavailableError) retryAfter(res, error.retryAfterSeconds);
      // Extensions first: an extension named like a standard member (e.g. `status`) must not replace it.
      return sendProblem(res, { ...error.extra, type: problemType(error.code), title: error.title, status: error.status, detail: error.message, requestId });
    }
    const bodyError = typeof error?.type === 'string' ? BODY_PARSER_ERRORS[error.type] : undefined;
    if (bodyError) {
      return sendProblem(res, { type: problemType(bodyError.code), title: bodyError.title, status: bodyError.status, detail: bodyError.detail, requestId });
    }
    // Other client errors raised by Express or body-parser (e.g. a Content-Encoding that does not
    // match the body) carry `expose` and a 4xx status: answer that status, with our own words.
    if (error?.expose === true && Number.isInteger(error.status) && error.status >= 400 && error.status < 500) {
      return sendProblem(res, {
        type: problemType('bad-request'),
        title: 'Bad request',
        status: error.status,
        detail: 'The request could not be read; check its headers and body.',
        requestId,
      });
    }
    // Two requests collided even after one retry: the client may simply send it again. Not an outage.
    if (isTransactionConflict(error)) {
      logger.warn('transaction conflict after a retry', { method: req.method, path: req.path, error: error.message });
      return sendProblem(res, {
        type: problemType('concurrent-update'),
        title: 'Concurrent update',
        status: 409,
        detail: 'Another request changed the same data at the same moment; send the request again.',
        requestId,
      });
    }
    if (isTransientDatabaseError(error)) {
      logger.warn('database unavailable during request', { method: req.method, path: req.path, error: error.message });
      retryAfter(res, OUTAGE_RETRY_AFTER_SECONDS);
      return sendProblem(res, {
        type: problemType('service-unavailable'),
        title: 'Service unavailable',
        status: 503,
        detail: 'The database is unavailable; try again shortly.',
        requestId,
      });
    }
    logger.error('unhandled error', { method: req.method, path: req.path, error });
    sendProblem(res, {
      type: problemType('internal-error'),
      title: 'Internal server error',
      status: 500,
      detail: 'Something went wrong on our side. Quote the requestId when reporting it.',
      requestId,
    });
  };
}

/** A dependency's bounded wait ran out (pool-options.ts, queues/redis.ts): the 503 that says so. */
function dependencyTimeoutOf(error: unknown, logger: Logger, method: string, path: string): DependencyTimeoutError | undefined {
  const dependency = isDatabaseTimeout(error) ? 'database' : isRedisCommandTimeout(error) ? 'redis' : undefined;
  if (!dependency) return undefined;
  logger.warn('a dependency did not answer in time', { method, path, dependency, error: (error as Error).message });
  return new DependencyTimeoutError(dependency, OUTAGE_RETRY_AFTER_SECONDS);
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, {
    type: problemType('not-found'),
    title: 'Not found',
    status: 404,
    detail: `No route ${req.method} ${req.path}.`,
    requestId: res.locals.requestId,
  });
};
