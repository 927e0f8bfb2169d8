import { fromNow, systemClock } from '@orgms/common/clock';
import { expect } from 'chai';
import { ManualClock } from '../support/manual-clock';

describe('Clock', () => {
  it('when the system clock is asked, then it answers the current time', () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).to.be.within(before, Date.now());
  });

  it('when a manual clock is not moved, then it stands still at its start', () => {
    const start = new Date('2026-11-01T00:00:00Z');
    const clock = new ManualClock(start);
    expect(clock.now()).to.deep.equal(start);
    expect(clock.now()).to.deep.equal(start);
  });

  it('when a manual clock is advanced or set, then its now moves there', () => {
    const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));
    clock.advance(90_000);
    expect(clock.now().toISOString()).to.equal('2026-11-01T00:01:30.000Z');
    clock.set(new Date('2025-01-01T00:00:00Z'));
    expect(clock.now().toISOString()).to.equal('2025-01-01T00:00:00.000Z');
  });

  it('when a manual clock is advanced by a negative amount, then it refuses', () => {
    expect(() => new ManualClock().advance(-1)).to.throw(/forward/);
  });

  it("when a time is asked from now, then it is that far after the clock's now", () => {
    const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));
    expect(fromNow(clock, 3_600_000).toISOString()).to.equal('2026-11-01T01:00:00.000Z');
  });
});
