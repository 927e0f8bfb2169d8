import { createSecretKey, type KeyObject } from 'node:crypto';
import type { JwtConfig } from '@orgms/common/config';
import jwt from 'jsonwebtoken';
import type { Principal } from './principal';

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
}

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds (the formats JWT_EXPIRES_IN accepts). */
export function durationToSeconds(duration: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(duration);
  if (!match) throw new Error(`not a duration: ${duration}`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/**
 * The HS256 key as a KeyObject. Given a string, jsonwebtoken first tries (and fails) to parse it
 * as a PEM public key on every verify, which cost a fifth of the API's CPU under load.
 */
export function jwtKey(jwtConfig: Pick<JwtConfig, 'secret'>): KeyObject {
  return createSecretKey(Buffer.from(jwtConfig.secret, 'utf8'));
}

export class TokenIssuer {
  private readonly expiresIn: number;
  private readonly key: KeyObject;

  constructor(private readonly jwtConfig: JwtConfig) {
    this.expiresIn = durationToSeconds(jwtConfig.expiresIn);
    this.key = jwtKey(jwtConfig);
  }

  issue(principal: Principal): IssuedToken {
    const { sub, ...claims } = principal;
    const accessToken = jwt.sign(claims, this.key, {
      algorithm: 'HS256',
      subject: sub,
      expiresIn: this.expiresIn,
      issuer: this.jwtConfig.issuer,
      audience: this.jwtConfig.audience,
    });
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.expiresIn };
  }
}
