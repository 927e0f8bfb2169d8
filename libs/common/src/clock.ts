/**
 * Where "now" comes from for every decision about time: grace periods, expiries, retention.
 * One clock per process (built in the API's and the worker's runtime), so tests move time by
 * moving their clock instead of rewriting timestamps in rows. Decisions made in SQL take its
 * time as a parameter rather than the database's `now()`.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** `ms` after the clock's now. */
export function fromNow(clock: Clock, ms: number): Date {
  return new Date(clock.now().getTime() + ms);
}
