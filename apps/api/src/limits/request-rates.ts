import type { Clock } from '@orgms/common/clock';
import type { LimitsConfig, RequestRates as RatesByClass } from '@orgms/common/config';
import { type ExceededRate, RateLimitedError } from '@orgms/common/errors';
import { defaultLimits, effectiveLimits, type LimitOverrides, REQUEST_CLASSES, type RequestClass } from '@orgms/common/limits/organization-limits';
import type { RequestHandler } from 'express';
import { type Authentication, principalOf } from '../sign-in/authenticate';
import { secondsLeft, type WindowCounter } from '../sign-in/window-counter';
import { type RateLimitState, rateLimitHeaders, windowSeconds } from './rate-limit-headers';
import { requestClassOf } from './request-classes';

/** Whose requests count together: one organization's users (all its tokens), or one platform admin. */
export interface RateScope {
  scope: ExceededRate['scope'];
  id: string;
}

/** An organization's own limits, set by a platform admin (OrganizationLimitsStore, read through the replica's cache). */
export type OverridesOf = (orgId: string) => Promise<LimitOverrides>;

export interface RequestRatesDeps {
  counter: WindowCounter;
  /** `<QUEUE_PREFIX>:rl:`, like the login throttle's keys. */
  keyPrefix: string;
  limits: LimitsConfig;
  clock: Clock;
  overridesOf: OverridesOf;
}

/** The current window's requests of one scope, by class. */
export interface RequestUsage {
  windowStartedAt: Date;
  windowSeconds: number;
  counts: RatesByClass;
}

/**
 * Request rates per organization and per platform admin, in fixed windows counted in Redis, so
 * every API replica counts together: one key per scope, class and window
 * (`<prefix>:rl:org:<id>:reads:<window start ms>`), counted in one command. Windows start at
 * multiples of the window length by the clock, so every replica agrees on them. When Redis is
 * unreachable a request is let through unchecked (a limit must not take the API down), and counted.
 *
 * Once a scope's class is over its limit in a window, this replica remembers it until the window
 * ends and refuses that class without asking Redis again: a client that never waits costs no
 * round trip per refusal. The shared count then stops growing for those refusals (it only lags;
 * the scope is over either way), and a limit raised mid-window applies from the next window.
 */
export class RequestRates {
  private readonly defaults;
  private readonly refused = new Map<string, number>();
  private unchecked = 0;
  /** Scopes' classes over their limit in `memoWindow`, with the state they were refused with. */
  private readonly overLimit = new Map<string, RateLimitState>();
  private memoWindow = 0;

  constructor(private readonly deps: RequestRatesDeps) {
    this.defaults = defaultLimits(deps.limits);
  }

  /** Counts one request of `who` in `requestClass`; undefined when it could not be counted. */
  async count(who: RateScope, requestClass: RequestClass): Promise<(RateLimitState & { exceeded: boolean }) | undefined> {
    const { windowMs } = this.deps.limits;
    const window = this.currentWindow();
    const known = this.knownOverLimit(who, requestClass, window);
    if (known) {
      this.countRefusal(who, requestClass);
      return { ...known, count: known.count + 1, resetMs: window.resetMs, exceeded: true };
    }
    const [count, limits] = await Promise.all([this.deps.counter.increment(this.key(who, requestClass, window.start), window.resetMs), this.limitsOf(who)]);
    if (count === undefined) {
      this.unchecked++;
      return undefined;
    }
    const limit = limits[requestClass];
    const exceeded = count > limit;
    const state = { requestClass, limit, windowMs, count, resetMs: window.resetMs };
    if (exceeded) {
      this.countRefusal(who, requestClass);
      if (this.memoWindow === window.start) this.overLimit.set(this.memoKey(who, requestClass), state);
    }
    return { ...state, exceeded };
  }

  /** The remembered refusal of this scope's class in the current window; forgets older windows. */
  private knownOverLimit(who: RateScope, requestClass: RequestClass, window: { start: number }): RateLimitState | undefined {
    if (this.memoWindow !== window.start) {
      this.overLimit.clear();
      this.memoWindow = window.start;
      return undefined;
    }
    return this.overLimit.get(this.memoKey(who, requestClass));
  }

  private memoKey(who: RateScope, requestClass: RequestClass): string {
    return `${who.scope}:${who.id}:${requestClass}`;
  }

  private countRefusal(who: RateScope, requestClass: RequestClass): void {
    const key = `${requestClass}:${who.scope}`;
    this.refused.set(key, (this.refused.get(key) ?? 0) + 1);
  }

  /** The requests of `who` in the current window by class; undefined while Redis is unreachable. */
  async requestUsage(who: RateScope): Promise<RequestUsage | undefined> {
    const window = this.currentWindow();
    const read = await Promise.all(REQUEST_CLASSES.map((requestClass) => this.deps.counter.read(this.key(who, requestClass, window.start))));
    const [reads, writes, expensive] = read;
    if (!reads || !writes || !expensive) return undefined;
    const counts: RatesByClass = { reads: reads.count, writes: writes.count, expensive: expensive.count };
    return { windowStartedAt: new Date(window.start), windowSeconds: windowSeconds(this.deps.limits.windowMs), counts };
  }

  /** Refused requests since the start, by class and scope (for `orgms_rate_limited_total`). */
  refusals(): { requestClass: RequestClass; scope: RateScope['scope']; count: number }[] {
    return [...this.refused].map(([key, count]) => {
      const [requestClass, scope] = key.split(':') as [RequestClass, RateScope['scope']];
      return { requestClass, scope, count };
    });
  }

  /** Requests let through without a count since the start, because Redis was unreachable. */
  uncheckedRequests(): number {
    return this.unchecked;
  }

  private limitsOf(who: RateScope): Promise<RatesByClass> {
    if (who.scope === 'platform_admin') return Promise.resolve(this.deps.limits.platformAdmin);
    return this.deps.overridesOf(who.id).then((overrides) => effectiveLimits(this.defaults, overrides).requests);
  }

  private currentWindow(): { start: number; resetMs: number } {
    const now = this.deps.clock.now().getTime();
    const start = now - (now % this.deps.limits.windowMs);
    return { start, resetMs: start + this.deps.limits.windowMs - now };
  }

  private key(who: RateScope, requestClass: RequestClass, windowStart: number): string {
    return `${this.deps.keyPrefix}${who.scope === 'organization' ? 'org' : 'admin'}:${who.id}:${requestClass}:${windowStart}`;
  }
}

/**
 * The check, run right after the bearer token is accepted and before anything else (no
 * organization row, tenant database or bcrypt): counts the request, tells its class's limit and
 * what remains in the RateLimit headers, and refuses it (429) once over. Requests without a
 * token are not counted here.
 */
export function limitRequestRates(rates: RequestRates): RequestHandler {
  return (req, res, next) => {
    const principal = principalOf(res);
    if (!principal) return next();
    const who: RateScope =
      principal.role === 'platform_admin' ? { scope: 'platform_admin', id: principal.sub } : { scope: 'organization', id: principal.org as string };
    const requestClass = requestClassOf(req.method, req.path);
    rates.count(who, requestClass).then((state) => {
      if (!state) return next();
      for (const [name, value] of Object.entries(rateLimitHeaders(state))) res.setHeader(name, value);
      if (!state.exceeded) return next();
      const exceeded: ExceededRate = { requestClass, scope: who.scope, limit: state.limit, windowSeconds: windowSeconds(state.windowMs) };
      // Retry-After is the RateLimit header's `t`: the window's end.
      next(new RateLimitedError(exceeded, secondsLeft(state.resetMs)));
    }, next);
  };
}

/** `authentication` with every accepted request then checked against its request rate. */
export function withRequestRates(authentication: Authentication, rates: RequestRates): Authentication {
  const limit = limitRequestRates(rates);
  const thenLimit =
    (authenticate: RequestHandler): RequestHandler =>
    (req, res, next) =>
      authenticate(req, res, (error?: unknown) => (error ? next(error) : limit(req, res, next)));
  return { ...authentication, required: thenLimit(authentication.required), optional: thenLimit(authentication.optional) };
}
