import bcrypt from 'bcrypt';

/** Hashing and checking; which passwords may be set at all is password-policy.ts's rule. */
export function hashPassword(password: string, rounds: number): Promise<string> {
  return bcrypt.hash(password, rounds);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

/**
 * A hash of a random password, compared against when the account does not exist, so that a
 * login for an unknown account costs the same time as one with a wrong password.
 */
const dummyHashes = new Map<number, Promise<string>>();
export function dummyPasswordHash(rounds: number): Promise<string> {
  // Keyed by cost: a dummy hashed at another cost would make unknown accounts measurably faster.
  let hash = dummyHashes.get(rounds);
  if (!hash) {
    hash = bcrypt.hash(`dummy-${Math.random()}`, rounds);
    dummyHashes.set(rounds, hash);
  }
  return hash;
}
