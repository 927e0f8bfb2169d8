import { createHash } from 'node:crypto';
import { type Config, type Logger, TooManyRequestsError } from '@orgms/common';
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore } from 'rate-limit-redis';

type RedisReply = boolean | number | string | (boolean | number | string)[];

/**
 * Login throttling, shared by every API replica through Redis:
 * - per client IP: every attempt counts (slows down spraying many accounts);
 * - per account (organization + email): only failed attempts count (slows down guessing one
 *   password without locking out a user who logs in successfully).
 * Keys live under `<QUEUE_PREFIX>:rl:` so deployments (and test suites) sharing a Redis never
 * share counters. If Redis is down the limit is skipped rather than blocking every login.
 */
export function loginRateLimits(config: Config, redis: Redis, logger: Logger): RequestHandler[] {
  const common = {
    windowMs: config.loginRateLimitWindowMs,
    standardHeaders: 'draft-8' as const,
    legacyHeaders: false,
    passOnStoreError: true,
    handler: ((req, _res, next) => next(new TooManyRequestsError('Too many login attempts; try again later.', retryAfterSeconds(req)))) as RequestHandler,
  };
  return [
    rateLimit({ ...common, limit: config.loginRateLimitPerIp, store: redisStore(redis, `${config.queuePrefix}:rl:login-ip:`, logger) }),
    rateLimit({
      ...common,
      limit: config.loginRateLimitPerAccount,
      skipSuccessfulRequests: true,
      keyGenerator: accountKey,
      store: redisStore(redis, `${config.queuePrefix}:rl:login-account:`, logger),
    }),
  ];
}

/** The account a login names, whatever its shape: hashed, so keys stay short and hold no email. */
function accountKey(req: Request): string {
  const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value.trim().toLowerCase() : '');
  const org = text(body.organization_id) || text(body.organization_name) || text(req.query.organization_name) || (req.path === '/auth/login' ? 'platform' : '');
  return createHash('sha256')
    .update(`${org}\n${text(body.email)}`)
    .digest('base64url');
}

function retryAfterSeconds(req: Request): number {
  const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  return resetTime ? Math.max(1, Math.ceil((resetTime.getTime() - Date.now()) / 1000)) : 60;
}

/**
 * The store loads its Lua scripts at construction, when the API's Redis connection (which
 * does not queue commands while offline) is usually not up yet. A failed SCRIPT LOAD answers
 * the script's SHA1, which is what Redis would return; the first EVALSHA then hits NOSCRIPT
 * and the store loads the script for real.
 */
function redisStore(redis: Redis, prefix: string, logger: Logger): RedisStore {
  return new RedisStore({
    prefix,
    sendCommand: async (command: string, ...args: string[]) => {
      if (command.toUpperCase() === 'SCRIPT' && args[0]?.toUpperCase() === 'LOAD') {
        return (redis.call(command, ...args) as Promise<RedisReply>).catch(() => createHash('sha1').update(args[1]).digest('hex'));
      }
      try {
        return (await redis.call(command, ...args)) as RedisReply;
      } catch (error) {
        const message = (error as Error).message;
        if (!message.includes('NOSCRIPT')) logger.warn('login rate limit store unavailable; not throttling', { error: message });
        throw error;
      }
    },
  });
}
