import { loadConfig } from '@orgms/common/config';
import { readEnvironment } from '@orgms/common/config/environment';
import { isRedisClusterUrl, parseRedisClusterUrl, queuePrefixFor } from '@orgms/common/queues/redis-url';
import { expect } from 'chai';

describe('REDIS_URL: one Redis or a Redis Cluster (redis+cluster://)', () => {
  it('when REDIS_URL lists cluster nodes, then each becomes a seed node, without TLS or credentials', () => {
    const url = 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002,redis-3.internal:7003';
    expect(isRedisClusterUrl(url)).to.equal(true);
    expect(parseRedisClusterUrl(url)).to.deep.equal({
      nodes: [
        { host: '127.0.0.1', port: 7001 },
        { host: '127.0.0.1', port: 7002 },
        { host: 'redis-3.internal', port: 7003 },
      ],
      username: undefined,
      password: undefined,
      tls: false,
    });
  });

  it('when the scheme is rediss+cluster and the first authority has credentials, then TLS is on and the percent-encoded user and password are decoded', () => {
    expect(parseRedisClusterUrl('rediss+cluster://app:p%40ss%2Cword@a.example:6380,[::1]:6381,b.example/')).to.deep.equal({
      nodes: [
        { host: 'a.example', port: 6380 },
        { host: '::1', port: 6381 },
        { host: 'b.example', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss,word',
      tls: true,
    });
    expect(parseRedisClusterUrl('REDIS+CLUSTER://:secret@h:1')).to.include({ username: undefined, password: 'secret', tls: false });
  });

  it('when a cluster URL is malformed, then parsing says what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['redis+cluster://', /no node is listed/],
      ['redis+cluster://h:1,,h:2', /"" is not host:port/],
      ['redis+cluster://h:0', /"h:0" has no valid port/],
      ['redis+cluster://h:70000', /no valid port/],
      ['redis+cluster://h!:7001', /is not host:port/],
      ['redis+cluster://-h:7001', /is not host:port/],
      ['redis+cluster://h:1/2', /only database 0/],
      ['redis+cluster://h:1?tls=true', /no query/],
      ['memcached+cluster://h:1', /scheme is redis\+cluster or rediss\+cluster/],
    ];
    for (const [url, problem] of cases) expect(() => parseRedisClusterUrl(url), url).to.throw(problem);
  });

  it('when plain redis:// and rediss:// URLs are given, then they are not cluster URLs', () => {
    expect(isRedisClusterUrl('redis://127.0.0.1:6379')).to.equal(false);
    expect(isRedisClusterUrl('rediss://user:pw@redis.example:6380/2')).to.equal(false);
  });

  it('when the configuration is read, then a cluster URL is accepted and an invalid one stops the start with a readable message', () => {
    expect(readEnvironment({ REDIS_URL: 'redis+cluster://127.0.0.1:7001,127.0.0.1:7002' }).REDIS_URL).to.equal('redis+cluster://127.0.0.1:7001,127.0.0.1:7002');
    expect(() => readEnvironment({ REDIS_URL: 'redis+cluster://127.0.0.1:7001,' })).to.throw(
      'Invalid configuration: "REDIS_URL" must be redis+cluster://host:port,host:port (rediss+cluster:// for TLS): "" is not host:port',
    );
    expect(() => readEnvironment({ REDIS_URL: 'http://127.0.0.1:6379' })).to.throw(
      /"REDIS_URL" must be a valid uri with a scheme matching the redis\|rediss pattern/,
    );
  });

  it('when REDIS_URL is a cluster, then the queue prefix is the hash tag {QUEUE_PREFIX}, so all of a flow lands in one slot; on one Redis it stays as it is', () => {
    expect(queuePrefixFor('redis+cluster://h:7001', 'orgms')).to.equal('{orgms}');
    expect(queuePrefixFor('rediss+cluster://h:7001', 'blue-1')).to.equal('{blue-1}');
    expect(queuePrefixFor('redis://h:6379', 'orgms')).to.equal('orgms');
    expect(loadConfig({ REDIS_URL: 'redis+cluster://127.0.0.1:7001', QUEUE_PREFIX: 'tenantsvc' }).queue.prefix).to.equal('{tenantsvc}');
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'tenantsvc' }).queue.prefix).to.equal('tenantsvc');
  });
});
