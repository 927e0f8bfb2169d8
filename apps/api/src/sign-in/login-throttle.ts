import { createHash } from 'node:crypto';
import { LoginThrottleUnavailableError, TooManyRequestsError } from '@orgms/common/errors';
import { secondsLeft, type WindowCounter } from './window-counter';

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
/** When the counters are out of reach: about how long a Redis restart or a short stall takes. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
const unavailable = () => new LoginThrottleUnavailableError(UNAVAILABLE_RETRY_AFTER_SECONDS);

/**
 * Throttles every credential check (both logins and the operator pages' HTTP Basic), shared by
 * all API replicas through Redis:
 * - per client address, every check counts (slows down spraying passwords over many accounts);
 * - per account, only checks that failed count (401). A malformed request (400) or a refused
 *   one (409) spends no bcrypt and proves nothing, so it must not lock anybody out.
 * Accounts are keyed by what the login resolved to (the organization's id, not the spelling
 * the client used), hashed so keys hold no email. If Redis is unreachable or does not answer in
 * time, the check is refused at once (503 `login-throttle-unavailable`) rather than let through
 * unthrottled, where passwords could be guessed at full speed.
 */
export class LoginThrottle {
  constructor(
    private readonly counter: WindowCounter,
    private readonly settings: LoginThrottleSettings,
  ) {}

  /** Counts one credential check from `ip`; 429 once the address is over its limit. */
  async countAttempt(ip: string): Promise<void> {
    await this.counter.limit(`${this.settings.keyPrefix}login-ip:${ip}`, this.settings.windowMs, this.settings.perIp, TOO_MANY, unavailable);
  }

  /** 429 while `account` has failed too often in the window, before any password is compared. */
  async assertAccountOpen(account: string): Promise<void> {
    const state = await this.counter.read(this.accountKey(account));
    if (!state) throw unavailable();
    if (state.count >= this.settings.perAccount) throw new TooManyRequestsError(TOO_MANY, secondsLeft(state.ttlMs));
  }

  /** Records a failed credential check (a 401) against `account`. */
  async recordFailure(account: string): Promise<void> {
    await this.counter.hit(this.accountKey(account), this.settings.windowMs);
  }

  private accountKey(account: string): string {
    return `${this.settings.keyPrefix}login-account:${createHash('sha256').update(account).digest('base64url')}`;
  }
}
