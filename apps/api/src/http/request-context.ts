import { randomUUID } from 'node:crypto';
import type { Logger } from '@orgms/common/logger';
import { runWithContext } from '@orgms/common/request-context';
import type { RequestHandler } from 'express';

/** A client-supplied X-Request-Id is kept only if it is short and plain; otherwise we mint one. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

/**
 * Gives every request an id, echoes it in `X-Request-Id`, and runs the rest of the request in a
 * log context carrying it, so every log line (and every job it enqueues) can be traced back.
 */
export function requestContext(logger: Logger): RequestHandler {
  // The access log is at `http` level, below the default `info`: without it, no per-request listener.
  const logsRequests = logger.isLevelEnabled('http');
  return (req, res, next) => {
    const offered = req.headers['x-request-id'];
    const requestId = typeof offered === 'string' && SANE_REQUEST_ID.test(offered) ? offered : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('X-Request-Id', requestId);
    if (logsRequests) {
      const started = process.hrtime.bigint();
      res.on('finish', () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        runWithContext({ requestId }, () =>
          logger.http('request', { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }),
        );
      });
    }
    runWithContext({ requestId }, next);
  };
}
