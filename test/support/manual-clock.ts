import type { Clock } from '@orgms/common/clock';

/** A clock that stands still until a spec moves it: expiries and grace periods without waiting. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    if (ms < 0) throw new Error('a clock is only moved forward; use set() to go anywhere else');
    this.current += ms;
  }

  set(date: Date): void {
    this.current = date.getTime();
  }
}
