import { isUtf8 } from 'node:buffer';
import { UnsupportedMediaTypeError } from '@orgms/common/errors';
import express, { type Request, type RequestHandler } from 'express';

/**
 * Runs on the raw (already decompressed) bytes, before anything decodes them. body-parser would
 * decode any `charset=utf-*` (UTF-16, UTF-32...) and, without a charset, read UTF-8; we take only
 * UTF-8 (RFC 8259 §8.1): a charset other than utf-8 (`charset` is the label body-parser read,
 * lower-cased, `utf-8` when none is given), a body that is not valid UTF-8 (a UTF-16/UTF-32 byte
 * order mark, a Latin-1 byte) or that contains a NUL byte (UTF-16/32 without a byte order mark;
 * never part of JSON text) is a 415, never parsed. Other charsets (`latin1`) are refused by
 * body-parser itself (`charset.unsupported`, also a 415).
 */
function requireUtf8(_req: unknown, _res: unknown, body: Buffer, charset: string | null): void {
  if (charset !== 'utf-8') {
    throw new UnsupportedMediaTypeError('Only charset=utf-8 is supported; send the request body as UTF-8 JSON.');
  }
  if (!isUtf8(body) || body.includes(0)) {
    throw new UnsupportedMediaTypeError('The request body is not UTF-8; send the request body as UTF-8 JSON.');
  }
}

/**
 * Whether the request carries a body that is not JSON. `Content-Length: 0` is no body (type-is
 * would count it as one, and Bull Board's own PUTs send it).
 */
export function sendsNonJsonBody(req: Request): boolean {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return hasBody && !req.is('application/json');
}

/** Parses JSON bodies (up to `limit`, UTF-8 only) and refuses bodies of any other media type or charset with a 415. */
export function jsonBody(limit: string): RequestHandler[] {
  const parse = express.json({ limit, strict: true, type: 'application/json', verify: requireUtf8 });
  return [
    (req, res, next) => {
      if (sendsNonJsonBody(req)) return next(new UnsupportedMediaTypeError('Send the request body as application/json.'));
      // Most requests (every poll) carry no body at all: nothing to parse.
      if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return next();
      parse(req, res, next);
    },
  ];
}
