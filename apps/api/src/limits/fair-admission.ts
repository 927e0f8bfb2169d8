import type { AdmissionConfig } from '@orgms/common/config';
import { ServiceUnavailableError, TooManyRequestsError } from '@orgms/common/errors';

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  admit: (release: Release) => void;
  refuse: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Lane {
  serving: number;
  waiting: Waiter[];
  /** Requests of this lane served at once: `perLane` for an organization; the replica's cap for the others. */
  cap: number;
}

/** Organizations' lanes are `org:<id>`: only they are capped on their own (see FairAdmission). */
const ORGANIZATION_LANE = 'org:';

/** Seconds a refused request is told to wait: the lane's turn comes within the wait bound. */
const RETRY_AFTER_SECONDS = 1;

/**
 * Fair admission of one replica's requests: at most `concurrency` are served at once, and at most
 * `perLane` of one organization's lane. Each platform admin and the unauthenticated have lanes of
 * their own, capped only by the replica (platform admins have higher limits, and logins are
 * throttled apart), but they take turns like the others. A request past either cap waits in its lane's queue; when a slot frees, the lanes
 * with waiters take turns (round-robin), so a quiet organization's request waits behind at most
 * one request of each busy lane, never behind a flood's backlog. A lane's excess is bounded in
 * count and in time: past either, `429` when the lane is at its own cap (its own load), `503` when
 * the replica is full (everyone's load), both with Retry-After.
 */
export class FairAdmission {
  private serving = 0;
  private readonly lanes = new Map<string, Lane>();
  /** Lanes with waiters, in turn order: the next admitted comes from the first eligible one. */
  private turns: string[] = [];
  private readonly refusedBy = { lane: 0, replica: 0 };
  private waitedMs = 0;
  private admittedAfterWait = 0;

  constructor(
    private readonly limits: AdmissionConfig,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Resolves with the release once the request may run; rejects with the refusal. */
  admit(laneKey: string): Promise<Release> {
    const lane = this.laneOf(laneKey);
    if (lane.waiting.length === 0 && this.hasRoom(lane)) return Promise.resolve(this.start(laneKey, lane));
    if (lane.waiting.length >= this.limits.queuePerLane) return Promise.reject(this.refusal(lane));
    const queuedAt = this.now();
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        admit: (release) => {
          clearTimeout(waiter.timer);
          this.waitedMs += this.now() - queuedAt;
          this.admittedAfterWait++;
          resolve(release);
        },
        refuse: reject,
        timer: setTimeout(() => {
          lane.waiting.splice(lane.waiting.indexOf(waiter), 1);
          if (lane.waiting.length === 0) this.leaveTurns(laneKey, lane);
          reject(this.refusal(lane));
        }, this.limits.maxWaitMs),
      };
      lane.waiting.push(waiter);
      if (lane.waiting.length === 1) this.turns.push(laneKey);
    });
  }

  /** Requests refused since the start: by their lane's cap or queue (`lane`), or a full replica (`replica`). */
  refusals(): { lane: number; replica: number } {
    return { ...this.refusedBy };
  }

  /** Requests that waited before being admitted, and their waits together (for the wait metric). */
  waits(): { count: number; totalMs: number } {
    return { count: this.admittedAfterWait, totalMs: this.waitedMs };
  }

  /** Requests being served and waiting now. */
  load(): { serving: number; waiting: number } {
    let waiting = 0;
    for (const lane of this.lanes.values()) waiting += lane.waiting.length;
    return { serving: this.serving, waiting };
  }

  private hasRoom(lane: Lane): boolean {
    return this.serving < this.limits.concurrency && lane.serving < lane.cap;
  }

  private start(laneKey: string, lane: Lane): Release {
    this.serving++;
    lane.serving++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.serving--;
      lane.serving--;
      this.leaveTurns(laneKey, lane);
      this.dispatch();
    };
  }

  /** Admits waiters while there is room, taking the lanes in turn. */
  private dispatch(): void {
    while (this.serving < this.limits.concurrency) {
      const index = this.turns.findIndex((key) => {
        const lane = this.lanes.get(key) as Lane;
        return lane.serving < lane.cap;
      });
      if (index < 0) return;
      const [laneKey] = this.turns.splice(index, 1);
      const lane = this.lanes.get(laneKey) as Lane;
      const waiter = lane.waiting.shift() as Waiter;
      // Its next waiter, if any, goes to the back: every other lane's turn comes first.
      if (lane.waiting.length > 0) this.turns.push(laneKey);
      waiter.admit(this.start(laneKey, lane));
    }
  }

  private laneOf(laneKey: string): Lane {
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = { serving: 0, waiting: [], cap: laneKey.startsWith(ORGANIZATION_LANE) ? this.limits.perLane : this.limits.concurrency };
      this.lanes.set(laneKey, lane);
    }
    return lane;
  }

  /** Forgets a lane with nothing in it, so organizations that stop sending leave nothing behind. */
  private leaveTurns(laneKey: string, lane: Lane): void {
    if (lane.waiting.length > 0) return;
    this.turns = this.turns.filter((key) => key !== laneKey);
    if (lane.serving === 0) this.lanes.delete(laneKey);
  }

  private refusal(lane: Lane): Error {
    if (lane.serving >= lane.cap) {
      this.refusedBy.lane++;
      return new TooManyRequestsError(
        `This organization already has ${this.limits.perLane} requests being served and more waiting on this server; try again in ${RETRY_AFTER_SECONDS} s.`,
        RETRY_AFTER_SECONDS,
      );
    }
    this.refusedBy.replica++;
    return new ServiceUnavailableError(`The server is busy; try again in ${RETRY_AFTER_SECONDS} s.`, RETRY_AFTER_SECONDS);
  }
}
