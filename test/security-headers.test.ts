import { expect } from 'chai';
import type { Response } from 'supertest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from './support/stack';

const basic = `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}`;

/** Pages and answers of every kind: the API-wide policy, ReDoc's own policy, the dashboard. */
const PAGES = ['/docs/', '/redoc', '/admin/queues', '/openapi.json'];

function httpsOnlyHeaders(res: Response) {
  return {
    upgradeInsecureRequests: /(^|;)\s*upgrade-insecure-requests/.test(res.headers['content-security-policy'] ?? ''),
    hsts: res.headers['strict-transport-security'] !== undefined,
    coop: res.headers['cross-origin-opener-policy'] !== undefined,
    originAgentCluster: res.headers['origin-agent-cluster'] !== undefined,
  };
}

const NONE = { upgradeInsecureRequests: false, hsts: false, coop: false, originAgentCluster: false };
const ALL = { upgradeInsecureRequests: true, hsts: true, coop: true, originAgentCluster: true };

describe('Security headers: the HTTPS-only ones only for a deployment that serves HTTPS', () => {
  /** No PUBLIC_URL, no trusted proxy: a server reached over plain http. */
  let plain: TestStack;
  /** PUBLIC_URL=https://…: clients reach it through TLS whatever the hop to us. */
  let publicHttps: TestStack;
  /** TRUST_PROXY names the loopback, where supertest connects from. */
  let behindLoopbackProxy: TestStack;
  /** TRUST_PROXY names another address: the loopback peer is not a proxy we believe. */
  let behindOtherProxy: TestStack;

  before(async () => {
    [plain, publicHttps, behindLoopbackProxy, behindOtherProxy] = await Promise.all([
      startStack(),
      startStack({ env: { PUBLIC_URL: 'https://orgms.example.com' } }),
      startStack({ env: { TRUST_PROXY: 'loopback' } }),
      startStack({ env: { TRUST_PROXY: '10.0.0.1' } }),
    ]);
  });
  after(() => Promise.all([plain, publicHttps, behindLoopbackProxy, behindOtherProxy].map((s) => s?.stop())));

  const get = (stack: TestStack, page: string, headers: Record<string, string> = {}) =>
    stack.request.get(page).set('Host', 'orgms.test:3000').set('Authorization', basic).set(headers);

  for (const page of PAGES) {
    describe(page, () => {
      it('when reached by host name over plain http, then no upgrade-insecure-requests, HSTS, COOP or Origin-Agent-Cluster', async () => {
        const res = await get(plain, page).expect(200);
        expect(httpsOnlyHeaders(res)).to.deep.equal(NONE);
        // The headers that work over http are still sent.
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
        expect(res.headers['content-security-policy']).to.include("default-src 'self'");
      });

      it('when PUBLIC_URL is an https URL, then all of them are sent, even on a plain-http hop', async () => {
        const res = await get(publicHttps, page).expect(200);
        expect(httpsOnlyHeaders(res)).to.deep.equal(ALL);
        expect(res.headers['strict-transport-security']).to.match(/max-age=\d+/);
      });

      it('when a proxy that TRUST_PROXY names forwards X-Forwarded-Proto: https, then all of them are sent', async () => {
        const res = await get(behindLoopbackProxy, page, { 'X-Forwarded-Proto': 'https' }).expect(200);
        expect(httpsOnlyHeaders(res)).to.deep.equal(ALL);
      });

      it('when that proxy forwards plain http, then none of them', async () => {
        const res = await get(behindLoopbackProxy, page, { 'X-Forwarded-Proto': 'http' }).expect(200);
        expect(httpsOnlyHeaders(res)).to.deep.equal(NONE);
      });

      it('when a peer that is not a trusted proxy sends X-Forwarded-Proto: https, then none of them', async () => {
        for (const stack of [plain, behindOtherProxy]) {
          const res = await get(stack, page, { 'X-Forwarded-Proto': 'https' }).expect(200);
          expect(httpsOnlyHeaders(res)).to.deep.equal(NONE);
        }
      });
    });
  }

  it('when ReDoc is served, then its own policy still allows its blob: search worker and follows the same https rule', async () => {
    const overHttp = await get(plain, '/redoc').expect(200);
    expect(overHttp.headers['content-security-policy']).to.include("worker-src 'self' blob:").and.not.include('upgrade-insecure-requests');
    const overHttps = await get(publicHttps, '/redoc').expect(200);
    expect(overHttps.headers['content-security-policy']).to.include("worker-src 'self' blob:").and.include('upgrade-insecure-requests');
  });

  it('when an error answers (401 problem+json), then it carries the same headers', async () => {
    const res = await publicHttps.request.get('/admin/queues').set('Host', 'orgms.test:3000').expect(401);
    expect(httpsOnlyHeaders(res)).to.deep.equal(ALL);
    const plainRes = await plain.request.get('/admin/queues').set('Host', 'orgms.test:3000').expect(401);
    expect(httpsOnlyHeaders(plainRes)).to.deep.equal(NONE);
  });
});
