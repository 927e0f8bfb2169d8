import type { RequestClass } from '@orgms/common/limits/organization-limits';
import { secondsLeft } from '../sign-in/window-counter';

/** One class's limit and how much of it the current window has used, this request included. */
export interface RateLimitState {
  requestClass: RequestClass;
  limit: number;
  windowMs: number;
  /** Requests counted in the current window. */
  count: number;
  /** Until the window ends. */
  resetMs: number;
}

/** Whole seconds of a window (structured-field integers), rounded up. */
export function windowSeconds(windowMs: number): number {
  return Math.ceil(windowMs / 1000);
}

/**
 * The headers of draft-ietf-httpapi-ratelimit-headers, as structured fields, for the policy that
 * applies to this request (named after its class): `RateLimit-Policy` the quota `q` per window
 * `w` seconds, `RateLimit` what remains `r` and the seconds `t` until the window ends.
 */
export function rateLimitHeaders(state: RateLimitState): { 'RateLimit-Policy': string; RateLimit: string } {
  const name = `"${state.requestClass}"`;
  return {
    'RateLimit-Policy': `${name};q=${state.limit};w=${windowSeconds(state.windowMs)}`,
    RateLimit: `${name};r=${Math.max(0, state.limit - state.count)};t=${secondsLeft(state.resetMs)}`,
  };
}
