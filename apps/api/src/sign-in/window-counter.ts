import { TooManyRequestsError } from '@orgms/common/errors';
import type { Logger } from '@orgms/common/logger';
import type { RedisConnection } from '@orgms/common/queues/redis';

export interface WindowCount {
  count: number;
  /** Until the window ends. */
  ttlMs: number;
}

const INCREMENT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";

/**
 * Fixed-window counters in Redis, shared by every API replica: the first hit of a key starts its
 * window. When Redis is unreachable (or gives no answer within REDIS_COMMAND_TIMEOUT_MS) every
 * call answers `undefined` (no count), which is logged; the caller decides: request rates let the
 * request through (a limit must not take the service down with it), the login throttle refuses.
 */
export class WindowCounter {
  constructor(
    private readonly redis: RedisConnection,
    private readonly logger: Logger,
  ) {}

  hit(key: string, windowMs: number): Promise<WindowCount | undefined> {
    return this.safely(async () => {
      const results = await this.redis.multi().incr(key).pexpire(key, windowMs, 'NX').pttl(key).exec();
      if (!results) throw new Error('rate-limit transaction aborted');
      for (const [error] of results) if (error) throw error;
      return { count: Number(results[0][1]), ttlMs: Number(results[2][1]) };
    });
  }

  /**
   * Counts one hit of `key` in a single command (a script: INCR, and PEXPIRE on the first hit), for
   * counters checked on every request; the caller knows when its window ends.
   */
  increment(key: string, windowMs: number): Promise<number | undefined> {
    return this.safely(async () => Number(await this.redis.eval(INCREMENT, 1, key, windowMs)));
  }

  /**
   * Counts one hit of `key`; a 429 (with the seconds left in the window) once it is over `max`.
   * `unavailable`: what to throw when the hit cannot be counted, for a limit that must hold rather
   * than let the request through.
   */
  async limit(key: string, windowMs: number, max: number, refusal: string, unavailable?: () => Error): Promise<void> {
    const counted = await this.hit(key, windowMs);
    if (!counted && unavailable) throw unavailable();
    if (counted && counted.count > max) throw new TooManyRequestsError(refusal, secondsLeft(counted.ttlMs));
  }

  read(key: string): Promise<WindowCount | undefined> {
    return this.safely(async () => {
      const [count, ttlMs] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
      return { count: Number(count ?? 0), ttlMs };
    });
  }

  private async safely<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      this.logger.warn('rate-limit store unavailable', { error: (error as Error).message });
      return undefined;
    }
  }
}

/** `Retry-After` seconds for a window that ends in `ttlMs`. */
export function secondsLeft(ttlMs: number): number {
  return ttlMs > 0 ? Math.ceil(ttlMs / 1000) : 1;
}
