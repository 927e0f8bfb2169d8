import type { RequestHandler } from 'express';
import { principalOf } from './authenticate';
import type { WindowCounter } from './window-counter';

export interface SignupThrottleSettings {
  /** Redis key prefix of this deployment (`<QUEUE_PREFIX>:rl:`). */
  keyPrefix: string;
  windowMs: number;
  /** Organizations one client address may create per window without a platform admin's token. */
  perIp: number;
}

/**
 * With self-signup on, anyone may create an organization, and each one costs a bcrypt hash and
 * a whole database: creations without a platform admin's token are limited per client address.
 */
export class SignupThrottle {
  constructor(
    private readonly counter: WindowCounter,
    private readonly settings: SignupThrottleSettings,
  ) {}

  async countSignup(ip: string): Promise<void> {
    const { keyPrefix, windowMs, perIp } = this.settings;
    await this.counter.limit(`${keyPrefix}signup-ip:${ip}`, windowMs, perIp, 'Too many organizations created from this address; try again later.');
  }
}

/** Runs after optional authentication on the create routes: platform admins are never limited. */
export function limitSelfSignups(throttle: SignupThrottle): RequestHandler {
  return async (req, res, next) => {
    if (principalOf(res)?.role !== 'platform_admin') await throttle.countSignup(req.ip ?? 'unknown');
    next();
  };
}
