import type { Clock } from '@orgms/common/clock';
import type { JwtConfig } from '@orgms/common/config';
import jwt from 'jsonwebtoken';
import type { Principal } from './principal';
import { type SigningKey, SigningKeys } from './signing-keys';

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

export class TokenIssuer {
  private readonly expiresIn: number;
  private readonly signing: SigningKey;

  constructor(
    private readonly jwtConfig: JwtConfig,
    private readonly clock: Clock,
  ) {
    this.expiresIn = durationToSeconds(jwtConfig.expiresIn);
    this.signing = new SigningKeys(jwtConfig).current;
  }

  issue(principal: Principal): IssuedToken {
    const { sub, ...claims } = principal;
    // `exp` follows `iat`, so both come from the clock.
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const accessToken = jwt.sign({ ...claims, iat }, this.signing.key, {
      algorithm: 'HS256',
      keyid: this.signing.kid,
      subject: sub,
      expiresIn: this.expiresIn,
      issuer: this.jwtConfig.issuer,
      audience: this.jwtConfig.audience,
    });
    return { access_token: accessToken, token_type: 'bearer', expires_in: this.expiresIn };
  }
}
