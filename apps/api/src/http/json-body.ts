import { UnsupportedMediaTypeError } from '@orgms/common';
import express, { type RequestHandler } from 'express';

/** Parses JSON bodies (up to `limit`) and refuses bodies of any other media type with a 415. */
export function jsonBody(limit: string): RequestHandler[] {
  const refuseOtherMediaTypes: RequestHandler = (req, _res, next) => {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (hasBody && !req.is('application/json')) {
      return next(new UnsupportedMediaTypeError('Send the request body as application/json.'));
    }
    next();
  };
  return [refuseOtherMediaTypes, express.json({ limit, strict: true, type: 'application/json' })];
}
