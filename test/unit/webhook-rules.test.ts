import { WEBHOOK_EVENT_TYPES } from '@orgms/common/webhooks/webhook-events';
import { isPublicAddress, RefusedWebhookUrl, type Resolve, resolveWebhookTarget } from '@orgms/common/webhooks/webhook-targets';
import { retryDelayMs } from '@orgms/worker/webhooks/webhook-delivery.service';
import { expect } from 'chai';

/** A resolver that answers from a table, as DNS would (or as an attacker's DNS would). */
const dns =
  (table: Record<string, string[]>): Resolve =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(RefusedWebhookUrl);
    return (error as Error).message;
  }
  throw new Error('expected the URL to be refused');
}

describe('Webhook rules: which targets may be called, the event types, the retry delays', () => {
  describe('isPublicAddress (webhooks/webhook-targets.ts)', () => {
    const refused = {
      'IPv4 loopback': ['127.0.0.1', '127.255.255.254'],
      'IPv4 private (RFC 1918)': ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1'],
      'IPv4 link-local (cloud metadata)': ['169.254.169.254', '169.254.0.1'],
      'IPv4 unspecified and "this network"': ['0.0.0.0', '0.1.2.3'],
      'IPv4 carrier-grade NAT': ['100.64.0.1', '100.127.255.254'],
      'IPv4 multicast and broadcast': ['224.0.0.1', '239.255.255.250', '255.255.255.255'],
      'IPv4 documentation, benchmarking and reserved': ['192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '240.0.0.1', '192.0.0.8'],
      'IPv6 loopback and unspecified': ['::1', '::'],
      'IPv6 link-local, unique-local and site-local': ['fe80::1', 'fc00::1', 'fd12:3456::1', 'fec0::1'],
      'IPv6 multicast': ['ff02::1', 'ff05::2'],
      'IPv4-mapped IPv6 of private addresses': ['::ffff:127.0.0.1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '::ffff:7f00:1'],
      'IPv6 that embeds IPv4 (NAT64, 6to4, Teredo) and documentation': ['64:ff9b::7f00:1', '2002:7f00:1::1', '2001:0:4136:e378::1', '2001:db8::1'],
      'IPv4-compatible IPv6 (deprecated ::/96), whatever IPv4 it embeds': ['::127.0.0.1', '::7f00:1', '::10.0.0.1', '::169.254.169.254', '::8.8.8.8'],
      'anything that is not an address': ['', 'localhost', '127.1', '1.2.3', 'example.com', '::g'],
    };
    for (const [kind, addresses] of Object.entries(refused)) {
      it(`when the address is ${kind}, then it is not public`, () => {
        for (const address of addresses) expect(isPublicAddress(address), address).to.equal(false);
      });
    }

    it('when the address is global unicast (IPv4, IPv6, IPv4-mapped public), then it is public', () => {
      for (const address of ['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e', '::ffff:8.8.8.8']) {
        expect(isPublicAddress(address), address).to.equal(true);
      }
    });
  });

  describe('resolveWebhookTarget', () => {
    it('when the host resolves to public addresses only, then the first one is the target', async () => {
      const target = await resolveWebhookTarget('https://hooks.example.test/in', {
        allowPrivate: false,
        resolve: dns({ 'hooks.example.test': ['93.184.216.34', '2606:4700:4700::1111'] }),
      });
      expect(target).to.include({ address: '93.184.216.34', family: 4 });
      expect(target.url.hostname).to.equal('hooks.example.test');
    });

    it('when any address of the host is private, then the URL is refused (a client might pick that one)', async () => {
      const message = await refusal(
        resolveWebhookTarget('https://mixed.example.test/', { allowPrivate: false, resolve: dns({ 'mixed.example.test': ['93.184.216.34', '10.0.0.5'] }) }),
      );
      expect(message).to.contain('10.0.0.5').and.to.contain('not a public address');
    });

    it('when the URL names a private or loopback address itself (IPv4, IPv6, IPv4-mapped, decimal), then it is refused without DNS', async () => {
      const resolve: Resolve = async (host) => [{ address: host, family: host.includes(':') ? 6 : 4 }];
      for (const url of [
        'http://127.0.0.1:8080/',
        'http://[::1]/',
        'http://[::ffff:127.0.0.1]/',
        'http://2130706433/',
        'http://0x7f.1/',
        'http://169.254.169.254/latest',
      ]) {
        await refusal(resolveWebhookTarget(url, { allowPrivate: false, resolve }));
      }
    });

    it('when the URL names an IPv4-compatible IPv6 address ([::a.b.c.d]), then it is refused like the other forms that embed IPv4', async () => {
      const resolve: Resolve = async (host) => [{ address: host, family: 6 }];
      for (const url of ['http://[::127.0.0.1]/', 'http://[::10.0.0.1]/', 'http://[::169.254.169.254]/latest', 'http://[::8.8.8.8]/']) {
        expect(await refusal(resolveWebhookTarget(url, { allowPrivate: false, resolve })), url).to.contain('not a public address');
      }
    });

    it('when private targets are allowed (WEBHOOK_ALLOW_PRIVATE=true), then loopback and private targets are accepted, in every spelling', async () => {
      for (const address of ['127.0.0.1', '::1', '10.0.0.5', '192.168.1.1', '172.16.0.1', 'fd12:3456::1', '::ffff:10.0.0.1', '::127.0.0.1']) {
        const target = await resolveWebhookTarget('http://receiver.test:9000/', { allowPrivate: true, resolve: dns({ 'receiver.test': [address] }) });
        expect(target.address, address).to.equal(address);
      }
    });

    it('when private targets are allowed, then cloud metadata and link-local addresses are still refused, in every form that embeds them', async () => {
      for (const address of [
        '169.254.169.254', // AWS, GCP, Azure, OCI, OpenStack
        '169.254.170.2', // ECS task metadata
        '169.254.0.1',
        'fd00:ec2::254', // AWS over IPv6
        '100.100.100.200', // Alibaba Cloud
        'fe80::1',
        '::ffff:169.254.169.254',
        '::ffff:a9fe:a9fe',
        '::169.254.169.254',
        '::ffff:0:a9fe:a9fe', // IPv4-translated (RFC 6145)
        '64:ff9b::a9fe:a9fe', // NAT64
        '64:ff9b:1::a9fe:a9fe', // local-use NAT64: which IPv4 it reaches cannot be told
        '2002:a9fe:a9fe::1', // 6to4
        '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
      ]) {
        const message = await refusal(
          resolveWebhookTarget('http://receiver.test/', { allowPrivate: true, resolve: dns({ 'receiver.test': ['10.0.0.5', address] }) }),
        );
        expect(message, address).to.contain(address).and.to.contain('cloud instance metadata').and.to.contain('WEBHOOK_ALLOW_PRIVATE');
      }
    });

    it('when the host does not resolve, or the scheme is not http(s), then the URL is refused', async () => {
      expect(await refusal(resolveWebhookTarget('https://nowhere.test/', { allowPrivate: false, resolve: dns({}) }))).to.contain('does not resolve');
      expect(await refusal(resolveWebhookTarget('ftp://files.example.test/', { allowPrivate: true, resolve: dns({}) }))).to.contain('http or https');
    });
  });

  describe('event types', () => {
    it('when the event types are listed, then they are created, renamed and one per later organization status', () => {
      expect(WEBHOOK_EVENT_TYPES[0]).to.equal('organization.created');
      expect(WEBHOOK_EVENT_TYPES).to.include.members(['organization.active', 'organization.failed', 'organization.deleted', 'organization.renamed']);
      expect(WEBHOOK_EVENT_TYPES).to.not.include('organization.pending');
    });
  });

  describe('retry delays', () => {
    it('when a delivery keeps failing, then it waits the base, doubled each time, never more than an hour', () => {
      expect([1, 2, 3, 4].map((attempt) => retryDelayMs(5000, attempt))).to.deep.equal([5000, 10000, 20000, 40000]);
      expect(retryDelayMs(5000, 10)).to.equal(2560000);
      expect(retryDelayMs(5000, 11)).to.equal(3600000);
      expect(retryDelayMs(5000, 1000)).to.equal(3600000);
    });
  });
});
