import { createHash, createSecretKey, type KeyObject } from 'node:crypto';
import type { JwtConfig } from '@orgms/common/config';

/** Keeps a key id from being the hash of anything but a JWT key of this service. */
const KEY_ID_LABEL = 'orgms access token signing key\0';

/**
 * The `kid` a token signed with `secret` carries: 16 base64url characters of a labelled SHA-256.
 * It shows nothing a token's HMAC does not already (both let a guess of the secret be checked),
 * and it needs no variable of its own: every replica with the same secret names it the same.
 */
export function keyIdOf(secret: string): string {
  return createHash('sha256').update(KEY_ID_LABEL).update(secret, 'utf8').digest('base64url').slice(0, 16);
}

export interface SigningKey {
  kid: string;
  key: KeyObject;
}

/**
 * JWT_SECRET signs and verifies; JWT_PREVIOUS_SECRETS only verify, so a rotation logs nobody out
 * until their tokens expire. A token is verified only by the key its `kid` names: one without a
 * kid, or with a kid of no configured key, has no key at all.
 */
export class SigningKeys {
  readonly current: SigningKey;
  private readonly verifying: ReadonlyMap<string, KeyObject>;

  constructor(jwtConfig: Pick<JwtConfig, 'secret' | 'previousSecrets'>) {
    const keys = [jwtConfig.secret, ...jwtConfig.previousSecrets].map(signingKey);
    this.current = keys[0];
    this.verifying = new Map(keys.map(({ kid, key }) => [kid, key]));
  }

  verifyingKey(kid: unknown): KeyObject | undefined {
    return typeof kid === 'string' ? this.verifying.get(kid) : undefined;
  }
}

/**
 * The key as a KeyObject. Given a string, jsonwebtoken first tries (and fails) to parse it as a
 * PEM public key on every verify, which cost a fifth of the API's CPU under load.
 */
function signingKey(secret: string): SigningKey {
  return { kid: keyIdOf(secret), key: createSecretKey(Buffer.from(secret, 'utf8')) };
}
