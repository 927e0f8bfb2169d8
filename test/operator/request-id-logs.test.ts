import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import Transport from 'winston-transport';
import { waitForStatus } from '../support/organizations';
import { startStack, type TestStack } from '../support/stack';

/** Keeps every log line (after the logger's formats) in memory. */
class CaptureTransport extends Transport {
  readonly lines: Record<string, unknown>[] = [];
  override log(info: Record<string, unknown>, next: () => void): void {
    this.lines.push(info);
    next();
  }
}

describe('Request ids in the logs', () => {
  let stack: TestStack;
  const capture = new CaptureTransport();
  before(async () => {
    stack = await startStack({ worker: true });
    stack.logger.clear().add(capture);
    stack.logger.silent = false;
  });
  after(() => stack.stop());

  it('when a request creates an organization, then every log line of its provisioning job carries that request id', async () => {
    const res = await stack.request
      .post('/organizations')
      .set('Authorization', `Bearer ${await stack.adminToken()}`)
      .set('X-Request-Id', 'trace-me-12345')
      .send({ organization_name: 'Traced Org', email: 'owner@trace.test', password: 'long enough' })
      .expect(202);
    expect(res.headers['x-request-id']).to.equal('trace-me-12345');
    await waitForStatus(stack, res.body.id, ['active']);

    // The job logs "organization active" just after the status is written: give it that moment.
    const jobLinesOf = () => capture.lines.filter((line) => line.jobId === `provision-${res.body.id}`);
    for (let waited = 0; waited < 2000 && !jobLinesOf().some((line) => line.message === 'organization active'); waited += 20) await sleep(20);
    const jobLines = jobLinesOf();
    expect(jobLines.map((line) => line.message)).to.include.members(['provisioning step done', 'organization active']);
    for (const line of jobLines) expect(line.requestId, String(line.message)).to.equal('trace-me-12345');
    for (const line of jobLines) expect(line.orgId).to.equal(res.body.id);
  });
});
