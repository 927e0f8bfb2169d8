import { keyIdOf } from '@orgms/api/sign-in/signing-keys';
import type { JwtConfig } from '@orgms/common/config';
import jwt from 'jsonwebtoken';

/**
 * An access token made outside the API, to show what it refuses: by default signed like the
 * API's (current key and its `kid`, issuer, audience), and `options` change one thing at a time
 * (`secret` forges the signature under the right kid).
 */
export function signedToken(
  jwtConfig: JwtConfig,
  claims: object,
  { secret = jwtConfig.secret, ...options }: jwt.SignOptions & { secret?: string } = {},
): string {
  return jwt.sign(claims, secret, {
    algorithm: 'HS256',
    keyid: keyIdOf(jwtConfig.secret),
    issuer: jwtConfig.issuer,
    audience: jwtConfig.audience,
    ...options,
  });
}

/** The same claims with `alg: none` and no signature, under the current key's `kid`. */
export function unsignedToken(jwtConfig: JwtConfig, claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT', kid: keyIdOf(jwtConfig.secret) })}.${part({ ...claims, iss: jwtConfig.issuer, aud: jwtConfig.audience })}.`;
}
