import { hashPassword } from '@orgms/common/sign-in/passwords';

/**
 * Password hashes of one organization run one at a time in this API process; the others of that
 * organization wait their turn, while other organizations' hashes start at once. bcrypt runs on
 * libuv's threadpool (UV_THREADPOOL_SIZE, 4 threads by default), which every organization's hashes,
 * new organizations' admin passwords and file system work share: unbounded, one organization
 * creating users on four connections holds every thread. A waiting request holds no thread, no
 * connection and no CPU; how many may arrive is the request rate limits' concern.
 */
export class PasswordHashing {
  /** The end of each organization's queue: its last hash, settled either way. */
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly hashOne: (password: string) => Promise<string>) {}

  static withRounds(rounds: number): PasswordHashing {
    return new PasswordHashing((password) => hashPassword(password, rounds));
  }

  hash(organizationId: string, password: string): Promise<string> {
    const previous = this.tails.get(organizationId) ?? Promise.resolve();
    const hashed = previous.then(() => this.hashOne(password));
    const tail = hashed.catch(() => undefined);
    this.tails.set(organizationId, tail);
    // The last one out removes the queue, so organizations that stop hashing leave nothing behind.
    void tail.then(() => {
      if (this.tails.get(organizationId) === tail) this.tails.delete(organizationId);
    });
    return hashed;
  }
}
