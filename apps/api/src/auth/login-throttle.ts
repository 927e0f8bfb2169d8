import { createHash } from 'node:crypto';
import { TooManyRequestsError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import type { Redis } from 'ioredis';

export interface LoginThrottleSettings {
  /** Redis key prefix of this deployment (`<QUEUE_PREFIX>:rl:`), so deployments never share counters. */
  keyPrefix: string;
  windowMs: number;
  /** Credential checks per client address per window. */
  perIp: number;
  /** Failed credential checks per account per window. */
  perAccount: number;
}

const TOO_MANY = 'Too many login attempts; try again later.';

/**
 * Throttles every credential check (both logins and the operator pages' HTTP Basic), shared by
 * all API replicas through Redis:
 * - per client address, every check counts (slows down spraying passwords over many accounts);
 * - per account, only checks that failed count (401). A malformed request (400) or a refused
 *   one (409) spends no bcrypt and proves nothing, so it must not lock anybody out.
 * Accounts are keyed by what the login resolved to (the organization's id, not the spelling
 * the client used), hashed so keys hold no email. If Redis is unreachable the limit is skipped
 * rather than refusing every login; that is logged.
 */
export class LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly settings: LoginThrottleSettings,
    private readonly logger: Logger,
  ) {}

  /** Counts one credential check from `ip`; 429 once the address is over its limit. */
  async countAttempt(ip: string): Promise<void> {
    const key = `${this.settings.keyPrefix}login-ip:${ip}`;
    const counted = await this.safely(() => this.increment(key));
    if (counted && counted.count > this.settings.perIp) throw new TooManyRequestsError(TOO_MANY, secondsOf(counted.ttlMs));
  }

  /** 429 while `account` has failed too often in the window, before any password is compared. */
  async assertAccountOpen(account: string): Promise<void> {
    const key = this.accountKey(account);
    const state = await this.safely(async () => {
      const [count, ttlMs] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      return { count: Number(count ?? 0), ttlMs };
    });
    if (state && state.count >= this.settings.perAccount) throw new TooManyRequestsError(TOO_MANY, secondsOf(state.ttlMs));
  }

  /** Records a failed credential check (a 401) against `account`. */
  async recordFailure(account: string): Promise<void> {
    await this.safely(() => this.increment(this.accountKey(account)));
  }

  private accountKey(account: string): string {
    return `${this.settings.keyPrefix}login-account:${createHash('sha256').update(account).digest('base64url')}`;
  }

  /** INCR, and start the window on the first hit: a fixed window per key. */
  private async increment(key: string): Promise<{ count: number; ttlMs: number }> {
    const results = await this.redis.multi().incr(key).pexpire(key, this.settings.windowMs, 'NX').pttl(key).exec();
    if (!results) throw new Error('rate-limit transaction aborted');
    for (const [error] of results) if (error) throw error;
    return { count: Number(results[0][1]), ttlMs: Number(results[2][1]) };
  }

  private async safely<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      this.logger.warn('login throttle store unavailable; not throttling', { error: (error as Error).message });
      return undefined;
    }
  }
}

function secondsOf(ttlMs: number): number {
  return ttlMs > 0 ? Math.ceil(ttlMs / 1000) : 1;
}
