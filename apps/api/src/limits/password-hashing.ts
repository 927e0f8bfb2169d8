import { setTimeout as sleep } from 'node:timers/promises';
import { hashPassword } from '@orgms/common/sign-in/passwords';

/**
 * The share of one bcrypt thread one organization's hashes may keep busy: after a hash that took
 * t, that organization's next waits t × (1 / share − 1). A user create at cost 10 is ~55 ms of a
 * core; back to back (a client that never waits) that is a whole core of a 2-core server for as
 * long as its writes last, which is what the other organizations' p99 paid in the noisy-neighbour
 * bench. At a quarter, one organization still creates ~4 users a second per replica.
 */
const ORGANIZATION_HASHING_SHARE = 0.25;

/**
 * Password hashes of one organization run one at a time in this API process, paced to a share of
 * a thread; the others of that organization wait their turn, while other organizations' hashes
 * start at once. bcrypt runs on libuv's threadpool (UV_THREADPOOL_SIZE, 4 threads by default),
 * which every organization's hashes, new organizations' admin passwords and file system work
 * share: unbounded, one organization creating users on four connections holds every thread. A
 * waiting request holds no thread, no connection and no CPU; how many may arrive is the request
 * rate limits' concern. A single hash is never delayed: only the next one of the same organization.
 */
export class PasswordHashing {
  /** The end of each organization's queue: its last hash, settled either way, and its pause. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly hashOne: (password: string) => Promise<string>,
    private readonly share = ORGANIZATION_HASHING_SHARE,
  ) {}

  static withRounds(rounds: number): PasswordHashing {
    return new PasswordHashing((password) => hashPassword(password, rounds));
  }

  hash(organizationId: string, password: string): Promise<string> {
    const previous = this.tails.get(organizationId) ?? Promise.resolve();
    let tookMs = 0;
    const hashed = previous.then(async () => {
      const started = performance.now();
      try {
        return await this.hashOne(password);
      } finally {
        tookMs = performance.now() - started;
      }
    });
    const tail = hashed
      .catch(() => undefined)
      .then(() => {
        const pauseMs = tookMs * (1 / this.share - 1);
        return pauseMs > 0 ? sleep(pauseMs) : undefined;
      });
    this.tails.set(organizationId, tail);
    // The last one out removes the queue, so organizations that stop hashing leave nothing behind.
    void tail.then(() => {
      if (this.tails.get(organizationId) === tail) this.tails.delete(organizationId);
    });
    return hashed;
  }
}
