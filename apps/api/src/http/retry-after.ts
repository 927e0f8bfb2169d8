import type { Response } from 'express';

/** How long a client should wait before asking again about work that is still in progress. */
export const POLL_AFTER_SECONDS = 2;

/** Sets `Retry-After` (seconds): the one place the API tells clients when to come back. */
export function retryAfter(res: Response, seconds = POLL_AFTER_SECONDS): Response {
  return res.setHeader('Retry-After', String(seconds));
}
