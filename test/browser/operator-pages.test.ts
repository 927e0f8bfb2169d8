import { mkdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { jobIds } from '@orgms/common/queues/registry';
import { expect } from 'chai';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { flakyOrganizationsFailOnce } from '../support/injected-failures';
import { createOrganization, uniqueName, waitForStatus } from '../support/organizations';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startStack, type TestStack } from '../support/stack';

/** Screenshots land here; CI keeps the folder as test artifacts. */
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/browser');

/** A name that is not localhost: Chromium resolves it to 127.0.0.1, as DNS would for a real server name. */
const HOSTNAME = 'orgms.test';

/**
 * A page that records everything that would leave an operator looking at a broken page: console
 * errors (a blocked or missing asset is one), uncaught exceptions, failed requests (an asset
 * upgraded to https that has none, a CDN offline) and Content-Security-Policy violations; and,
 * apart, every request that leaves `origin` (a CDN that may hang or be unreachable).
 */
async function watchedPage(context: BrowserContext, origin: string): Promise<{ page: Page; problems: string[]; external: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  const external: string[] = [];
  page.on('request', (request) => {
    if (![origin, 'blob:', 'data:'].some((prefix) => request.url().startsWith(prefix))) external.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  await page.exposeFunction('reportCspViolation', (text: string) => problems.push(`CSP violation: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { reportCspViolation: (text: string) => void }).reportCspViolation;
      report(`${event.effectiveDirective} refused ${event.blockedURI}`);
    });
  });
  return { page, problems, external };
}

describe('Operator pages in a real browser (headless Chromium)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let server: Server;
  let port: number;
  let browser: Browser;
  let orgName: string;
  /** A blank page's screenshot size: a screenshot with content is several times larger. */
  let blankScreenshotBytes: number;

  const admin = () => browser.newContext({ httpCredentials: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  const screenshot = async (page: Page, name: string, fullPage = false) => {
    const file = path.join(ARTIFACTS, name);
    await page.screenshot({ path: file, fullPage });
    return statSync(file).size;
  };

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startStack({ worker: flakyOrganizationsFailOnce(() => stack) });
    const org = await createOrganization(stack);
    orgName = org.name;
    await waitForStatus(stack, org.id, ['active']);
    server = createServer(stack.api.app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
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
        `--host-resolver-rules=MAP ${HOSTNAME} 127.0.0.1`,
      ],
    });
    const blank = await browser.newPage();
    blankScreenshotBytes = (await blank.screenshot()).length;
    await blank.close();
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await stack?.stop();
  });

  for (const { label, host, suffix } of [
    { label: 'by its address (127.0.0.1)', host: '127.0.0.1', suffix: '' },
    { label: `by a host name (${HOSTNAME}) over plain HTTP`, host: HOSTNAME, suffix: '-hostname' },
  ]) {
    describe(`reached ${label}`, () => {
      const origin = () => `http://${host}:${port}`;

      it('when /docs is opened, then Swagger UI lists the operations, no asset is blocked or fails, nothing comes from a CDN', async () => {
        const context = await browser.newContext();
        const { page, problems, external } = await watchedPage(context, origin());
        await page.goto(`${origin()}/docs/`);
        await page.waitForSelector('.opblock-summary-path', { timeout: 20_000 });
        const paths = await page.$$eval('.opblock-summary-path', (nodes) => nodes.map((n) => n.getAttribute('data-path') ?? n.textContent ?? ''));
        expect(paths.join(' ')).to.include('/organizations').and.include('/auth/login');
        const bytes = await screenshot(page, `swagger-ui${suffix}.png`);
        expect(bytes, 'the screenshot shows the page, not a blank one').to.be.greaterThan(3 * blankScreenshotBytes);
        expect(external, 'no request leaves the machine').to.deep.equal([]);
        expect(problems).to.deep.equal([]);
        await context.close();
      });

      it('when /redoc is opened without internet, then ReDoc renders its menu from the local bundle and nothing is blocked or leaves the machine', async () => {
        const context = await browser.newContext();
        const { page, problems, external } = await watchedPage(context, origin());
        await page.goto(`${origin()}/redoc`);
        await page.waitForSelector('text=Organization Management Service', { timeout: 20_000 });
        const menu = await page.$$eval('[role=menu] [role=menuitem]', (items) => items.map((item) => item.textContent ?? ''));
        expect(menu.length, 'menu entries').to.be.greaterThan(10);
        expect(menu.join(' ')).to.include('Organizations');
        const bytes = await screenshot(page, `redoc${suffix}.png`);
        expect(bytes, 'the screenshot shows the page, not a blank one').to.be.greaterThan(3 * blankScreenshotBytes);
        expect(external, 'no request leaves the machine').to.deep.equal([]);
        expect(problems).to.deep.equal([]);
        await context.close();
      });

      it('when a platform admin signs in to /admin/queues through the Basic prompt, then every queue is listed, no asset is blocked or fails, nothing comes from a CDN', async () => {
        const context = await admin();
        const { page, problems, external } = await watchedPage(context, origin());
        await page.goto(`${origin()}/admin/queues`);
        for (const queue of ['provisioning', 'tenant-work', 'maintenance', 'migrations']) {
          await page.waitForSelector(`main a[title="${queue}"]`, { timeout: 20_000 });
        }
        const bytes = await screenshot(page, `bull-board-queues${suffix}.png`);
        expect(bytes, 'the screenshot shows the page, not a blank one').to.be.greaterThan(3 * blankScreenshotBytes);
        expect(external, 'no request leaves the machine').to.deep.equal([]);
        expect(problems).to.deep.equal([]);
        await context.close();
      });
    });
  }

  describe('Bull Board', () => {
    it('when a platform admin opens the provisioning queue, then a completed job shows the organization it provisioned', async () => {
      const context = await admin();
      const { page, problems } = await watchedPage(context, `http://${HOSTNAME}:${port}`);
      await page.goto(`http://${HOSTNAME}:${port}/admin/queues/queue/provisioning?status=completed`);
      await page.waitForSelector('main >> text=provision-', { timeout: 20_000 });
      // The job's progress names the organization and its last step, so an operator knows which one it was.
      await page.click('main >> text=Progress');
      await page.waitForSelector(`main >> text=${orgName}`, { timeout: 10_000 });
      await screenshot(page, 'bull-board-provisioning-job.png', true);
      expect(problems).to.deep.equal([]);
      await context.close();
    });

    it('when provisioning failed for good and a platform admin clicks Retry on the job, then it runs again and the organization becomes active', async () => {
      const org = await createOrganization(stack, { organization_name: uniqueName('Flaky') });
      await waitForStatus(stack, org.id, ['failed']);
      const jobId = jobIds.provision(org.id);
      const context = await admin();
      const { page, problems } = await watchedPage(context, `http://${HOSTNAME}:${port}`);
      await page.goto(`http://${HOSTNAME}:${port}/admin/queues/queue/provisioning?status=failed`);
      await page.waitForSelector(`main >> text=${jobId}`, { timeout: 20_000 });
      // The job's own card: the innermost block holding its id and a retry icon (not the "Retry all" bar).
      const card = page
        .locator('main div')
        .filter({ hasText: jobId })
        .filter({ has: page.locator('svg.lucide-refresh-cw') })
        .last();
      await card.locator('button:has(svg.lucide-refresh-cw)').click();
      await page.getByText('Are you sure that you want to retry this job?').waitFor();
      // The board's own same-origin XHR passes the cross-site guard of the dashboard.
      const retried = page.waitForResponse((res) => res.request().method() === 'PUT' && res.url().endsWith(`/${jobId}/retry`));
      await page.getByRole('button', { name: 'Confirm' }).click();
      expect((await retried).status()).to.equal(204);

      const status = await waitForStatus(stack, org.id, ['active']);
      expect(status.attempts).to.equal(2);
      // The organization is active before its job returns: the job completes just after.
      const job = await stack.api.queues.provisioning.getJob(jobId);
      const deadline = Date.now() + 5000;
      while ((await job?.getState()) !== 'completed' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await job?.getState()).to.equal('completed');
      await page.goto(`http://${HOSTNAME}:${port}/admin/queues/queue/provisioning?status=completed`);
      await page.waitForSelector(`main >> text=${jobId}`, { timeout: 20_000 });
      await screenshot(page, 'bull-board-retried-job.png', true);
      expect(problems).to.deep.equal([]);
      await context.close();
    });

    it('when nobody is signed in, then /admin/queues asks for credentials (401)', async () => {
      // A navigation would stop at Chromium's credentials prompt, so ask through the browser's request
      // API (it runs in Node, where the host name does not resolve: hence the address).
      const context = await browser.newContext();
      const response = await context.request.get(`http://127.0.0.1:${port}/admin/queues`);
      expect(response.status()).to.equal(401);
      expect(response.headers()['www-authenticate']).to.match(/^Basic /);
      await context.close();
    });
  });
});
