import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import { type Browser, chromium } from 'playwright-core';
import { createOrganization, waitForStatus } from '../support/organizations';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from '../support/stack';

/** Screenshots land here; CI keeps the folder as test artifacts. */
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/browser');

describe('Operator pages in a real browser (headless Chromium)', function () {
  this.timeout(90_000);
  let stack: TestStack;
  let server: Server;
  let baseUrl: string;
  let browser: Browser;
  let orgName: string;

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({ worker: true });
    const org = await createOrganization(stack);
    orgName = org.name;
    await waitForStatus(stack, org.id, ['active']);
    server = createServer(stack.api.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.stop();
  });

  it('when /docs is opened, then Swagger UI renders the operations of the API', async () => {
    const page = await browser.newPage();
    await page.goto(`${baseUrl}/docs/`);
    await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.getAttribute('data-path') ?? n.textContent ?? ''));
    expect(paths.join(' ')).to.include('/organizations').and.include('/auth/login');
    await page.screenshot({ path: path.join(ARTIFACTS, 'swagger-ui.png'), fullPage: false });
    await page.close();
  });

  it('when /redoc is opened without internet, then ReDoc renders from the local bundle', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    // ReDoc's footer logo points at its CDN (an image the page's CSP blocks); everything the
    // page needs to work — scripts, styles, the spec — must come from this server.
    page.on('request', (request) => {
      const local = [baseUrl, 'blob:', 'data:'].some((prefix) => request.url().startsWith(prefix));
      if (!local && request.resourceType() !== 'image') external.push(request.url());
    });
    await page.goto(`${baseUrl}/redoc`);
    await page.waitForSelector('text=Organization Management Service', { timeout: 20_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'redoc.png') });
    expect(external, 'no request leaves the machine').to.deep.equal([]);
    await page.close();
  });

  it('when a platform admin opens /admin/queues with Basic credentials, then the queues and a provisioning job show', async () => {
    const context = await browser.newContext({ httpCredentials: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    const page = await context.newPage();
    await page.goto(`${baseUrl}/admin/queues`);
    // The overview lists every queue of the service with its job counts.
    await page.waitForSelector('main >> text=migrations', { timeout: 20_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'bull-board-queues.png') });
    await page.goto(`${baseUrl}/admin/queues/queue/provisioning?status=completed`);
    await page.waitForSelector('main >> text=provision-', { timeout: 20_000 });
    // The job's progress names the organization and its last step, so an operator knows which one it was.
    await page.click('main >> text=Progress');
    await page.waitForSelector(`main >> text=${orgName}`, { timeout: 10_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'bull-board-provisioning-job.png'), fullPage: true });
    await context.close();
  });

  it('when nobody is signed in, then /admin/queues asks for credentials (401)', async () => {
    // A navigation would stop at Chromium's credentials prompt, so ask through the page's request API.
    const context = await browser.newContext();
    const response = await context.request.get(`${baseUrl}/admin/queues`);
    expect(response.status()).to.equal(401);
    expect(response.headers()['www-authenticate']).to.match(/^Basic /);
    await context.close();
  });
});
