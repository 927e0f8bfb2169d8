import { networkInterfaces } from 'node:os';
import { expect } from 'chai';
import { freePort } from '../../harness/service-env';
import { startStack, type TestStack } from '../support/stack';

const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

/** An address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

describe('Who may read metrics', () => {
  let stack: TestStack;
  let workerPort: number;
  before(async () => {
    stack = await startStack({ env: { METRICS_TOKEN } });
    workerPort = await freePort();
    await stack.startWorker({}, { WORKER_METRICS_PORT: String(workerPort) });
  });
  after(() => stack.stop());

  it('when METRICS_TOKEN is set, then the API answers /metrics only to that bearer token', async () => {
    const none = await stack.request.get('/metrics').expect(401);
    expect(none.type).to.equal('application/problem+json');
    await stack.request.get('/metrics').set('Authorization', 'Bearer not-the-token').expect(401);
    const ok = await stack.request.get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`).expect(200);
    expect(ok.text).to.include('orgms_http_request_duration_seconds');
  });

  it('when the worker starts with the defaults, then its metrics port listens on loopback only', async () => {
    expect((await fetch(`http://127.0.0.1:${workerPort}/health`)).status).to.equal(200);
    const external = externalAddress();
    if (!external) return; // a machine with loopback only has nothing more to prove
    const reached = await fetch(`http://${external}:${workerPort}/health`, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    expect(reached, `reachable on ${external}`).to.equal(false);
  });
});
