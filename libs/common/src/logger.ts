import winston from 'winston';
import { currentContext } from './request-context';
import { currentTraceIds } from './tracing/tracing';

export type Logger = winston.Logger;

/**
 * Adds the current request/job context to every line, so callers never pass ids by hand; with
 * tracing on, also the active span's `traceId` and `spanId`, to find the line's trace.
 */
const withContext = winston.format((info) => {
  const context = currentContext();
  if (context) Object.assign(info, context);
  const traceIds = currentTraceIds();
  if (traceIds) Object.assign(info, traceIds);
  return info;
});

/**
 * winston's `format.errors` only handles an Error passed as the message; ours travel as
 * `{ error }` metadata, which JSON would print as `{}`. Spell them out (stacks stay in the log,
 * never in a response).
 */
const serializeErrors = winston.format((info) => {
  const error = info.error;
  if (error instanceof Error) {
    info.error = { name: error.name, message: error.message, code: (error as { code?: unknown }).code, stack: error.stack };
  }
  return info;
});

/** One JSON object per line on stdout; `service` tells the API's lines from the worker's. */
export function createLogger(service: string, level: string): Logger {
  return winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(withContext(), serializeErrors(), winston.format.timestamp(), winston.format.errors({ stack: true }), winston.format.json()),
    transports: [new winston.transports.Console()],
  });
}
