import bcrypt from 'bcrypt';

/** bcrypt silently ignores bytes past 72, so longer passwords are refused at validation. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_BYTES = 72;

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
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(rounds: number): Promise<string> {
  dummyHash ??= bcrypt.hash(`dummy-${Math.random()}`, rounds);
  return dummyHash;
}
