import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { rateLimitHeaders } from '@orgms/api/limits/rate-limit-headers';
import { requestClassOf } from '@orgms/api/limits/request-classes';
import { limitRequestRates, RequestRates } from '@orgms/api/limits/request-rates';
import { WindowCounter } from '@orgms/api/sign-in/window-counter';
import { loadConfig } from '@orgms/common/config';
import { RateLimitedError } from '@orgms/common/errors';
import type { LimitOverrides } from '@orgms/common/limits/organization-limits';
import { createLogger } from '@orgms/common/logger';
import { closeRedis, createRedis, type RedisConnection } from '@orgms/common/queues/redis';
import { expect } from 'chai';
import type { Request, Response } from 'express';
import { ManualClock } from '../support/manual-clock';

describe('Request rates: classes and headers (no servers)', () => {
  it('when a request reads (GET, HEAD), then it is a read', () => {
    expect(requestClassOf('GET', '/organizations/abc/users')).to.equal('reads');
    expect(requestClassOf('HEAD', '/organizations/abc/exports/x/download')).to.equal('reads');
    expect(requestClassOf('GET', '/organizations/abc/exports')).to.equal('reads');
  });

  it('when a request changes something, then it is a write', () => {
    expect(requestClassOf('POST', '/organizations')).to.equal('writes');
    expect(requestClassOf('POST', '/organizations/abc/users')).to.equal('writes');
    expect(requestClassOf('PATCH', '/organizations/abc')).to.equal('writes');
    expect(requestClassOf('PUT', '/org/update')).to.equal('writes');
    expect(requestClassOf('DELETE', '/organizations/abc')).to.equal('writes');
    expect(requestClassOf('POST', '/organizations/abc/retry')).to.equal('writes');
  });

  it('when a request starts an export, a backup, a move, a drain or a restore, then it is expensive (and not also a write)', () => {
    expect(requestClassOf('POST', '/organizations/abc/exports')).to.equal('expensive');
    expect(requestClassOf('POST', '/organizations/abc/backups')).to.equal('expensive');
    expect(requestClassOf('POST', '/organizations/abc/move')).to.equal('expensive');
    expect(requestClassOf('POST', '/organizations/abc/restore')).to.equal('expensive');
    expect(requestClassOf('POST', '/database-servers/abc/drain')).to.equal('expensive');
    expect(requestClassOf('POST', '/organizations/abc/exports/')).to.equal('expensive');
  });

  it('when the window is 60 s, 6000 reads allowed and 6001 counted with 11.2 s left, then the headers say remaining 0, reset in 12 s', () => {
    expect(rateLimitHeaders({ requestClass: 'reads', limit: 6000, windowMs: 60000, count: 6001, resetMs: 11200 })).to.deep.equal({
      'RateLimit-Policy': '"reads";q=6000;w=60',
      RateLimit: '"reads";r=0;t=12',
    });
  });

  it('when under the limit, then the remaining count is the limit minus the requests counted, and a window of 1.5 s is announced as 2 s', () => {
    expect(rateLimitHeaders({ requestClass: 'expensive', limit: 10, windowMs: 1500, count: 3, resetMs: 400 })).to.deep.equal({
      'RateLimit-Policy': '"expensive";q=10;w=2',
      RateLimit: '"expensive";r=7;t=1',
    });
  });
});

describe('Request rates: counting in Redis', () => {
  const logger = createLogger('test', 'error');
  logger.silent = true;
  const prefix = `orgms-test-rates-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/unused',
    JWT_SECRET: 'unit-test-secret-0123456789abcdef0123456789',
    QUEUE_PREFIX: prefix,
    RATE_LIMIT_READS: '3',
    RATE_LIMIT_WRITES: '5',
  });
  let redis: RedisConnection;
  before(async () => {
    redis = createRedis({ redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }, 'api');
    if (redis.status !== 'ready') await once(redis, 'ready');
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await Promise.all(keys.map((key) => redis.del(key)));
    await closeRedis(redis);
  });

  const ratesWith = (redisConnection: RedisConnection, overridesOf: (orgId: string) => Promise<LimitOverrides>) =>
    new RequestRates({
      counter: new WindowCounter(redisConnection, logger),
      keyPrefix: `${prefix}:rl:`,
      limits: config.limits,
      clock: new ManualClock(new Date('2030-01-01T00:00:10Z')),
      overridesOf,
    });

  /** Runs the check as Express would after authentication; resolves with the error it passed on, if any. */
  function run(rates: RequestRates, principal: Record<string, unknown>, method = 'GET', path = '/organizations/x/users') {
    const headers: Record<string, string> = {};
    const res = { locals: { principal }, setHeader: (name: string, value: string) => (headers[name] = value) } as unknown as Response;
    return new Promise<{ error: unknown; headers: Record<string, string> }>((resolve) => {
      limitRequestRates(rates)({ method, path } as Request, res, (error?: unknown) => resolve({ error, headers }));
    });
  }

  it("when an override lowers an organization's reads to 2, then its third read is refused with a rate-limited problem, and its writes still count apart", async () => {
    const limited = randomUUID();
    const rates = ratesWith(redis, async (orgId) => (orgId === limited ? { requests: { reads: 2 } } : {}));
    const user = { sub: randomUUID(), role: 'member', org: limited };
    expect((await run(rates, user)).error).to.equal(undefined);
    expect((await run(rates, user)).error).to.equal(undefined);
    const refused = await run(rates, user);
    expect(refused.error).to.be.instanceOf(RateLimitedError);
    expect((refused.error as RateLimitedError).extra).to.deep.equal({ rate_limit: { class: 'reads', scope: 'organization', limit: 2, window_seconds: 60 } });
    expect(refused.headers).to.deep.equal({ 'RateLimit-Policy': '"reads";q=2;w=60', RateLimit: '"reads";r=0;t=50' });
    const write = await run(rates, user, 'POST', '/organizations/x/users');
    expect(write.error).to.equal(undefined);
    expect(write.headers.RateLimit).to.equal('"writes";r=4;t=50');
    // Another organization keeps the configured default (3).
    const other = { sub: randomUUID(), role: 'org_admin', org: randomUUID() };
    for (let i = 0; i < 3; i++) expect((await run(rates, other)).error).to.equal(undefined);
    expect(rates.refusals()).to.deep.equal([{ requestClass: 'reads', scope: 'organization', count: 1 }]);
    expect(await rates.requestUsage({ scope: 'organization', id: limited })).to.deep.include({ counts: { reads: 3, writes: 1, expensive: 0 } });
  });

  it('when the counter (Redis) is unreachable, then requests pass unchecked and are counted as such, never refused', async () => {
    const dead = createRedis({ redisUrl: 'redis://127.0.0.1:1' }, 'api');
    try {
      const rates = ratesWith(dead, async () => ({ requests: { reads: 1 } }));
      const user = { sub: randomUUID(), role: 'member', org: randomUUID() };
      for (let i = 0; i < 3; i++) {
        const passed = await run(rates, user);
        expect(passed.error).to.equal(undefined);
        expect(passed.headers).to.deep.equal({});
      }
      expect(rates.uncheckedRequests()).to.equal(3);
      expect(rates.refusals()).to.deep.equal([]);
      expect(await rates.requestUsage({ scope: 'organization', id: user.org })).to.equal(undefined);
    } finally {
      await closeRedis(dead);
    }
  });

  it('when a request carries no principal, then it is not counted', async () => {
    const rates = ratesWith(redis, async () => ({}));
    const res = { locals: {}, setHeader: () => undefined } as unknown as Response;
    const error = await new Promise((resolve) => limitRequestRates(rates)({ method: 'GET', path: '/x' } as Request, res, resolve));
    expect(error).to.equal(undefined);
  });

  it('when an organization is over a class in this window, then its further requests of that class are refused without a Redis call until the window ends', async () => {
    const clock = new ManualClock(new Date('2030-01-01T00:01:10Z'));
    const counter = new WindowCounter(redis, logger);
    let redisCalls = 0;
    const increment = counter.increment.bind(counter);
    counter.increment = (key, windowMs) => {
      redisCalls++;
      return increment(key, windowMs);
    };
    const rates = new RequestRates({
      counter,
      keyPrefix: `${prefix}:rl:`,
      limits: config.limits,
      clock,
      overridesOf: async () => ({ requests: { reads: 1 } }),
    });
    const user = { sub: randomUUID(), role: 'member', org: randomUUID() };
    expect((await run(rates, user)).error).to.equal(undefined);
    expect((await run(rates, user)).error).to.be.instanceOf(RateLimitedError);
    expect(redisCalls).to.equal(2);
    for (let i = 0; i < 5; i++) {
      const refused = await run(rates, user);
      expect(refused.error).to.be.instanceOf(RateLimitedError);
      expect(refused.headers).to.deep.equal({ 'RateLimit-Policy': '"reads";q=1;w=60', RateLimit: '"reads";r=0;t=50' });
    }
    expect(redisCalls).to.equal(2);
    expect(rates.refusals()).to.deep.equal([{ requestClass: 'reads', scope: 'organization', count: 6 }]);
    // Its writes are not over: still counted in Redis.
    expect((await run(rates, user, 'POST')).error).to.equal(undefined);
    expect(redisCalls).to.equal(3);
    clock.advance(50_000);
    expect((await run(rates, user)).error).to.equal(undefined);
    expect(redisCalls).to.equal(4);
  });
});
