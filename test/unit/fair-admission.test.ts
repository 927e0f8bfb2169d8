import { FairAdmission, type Release } from '@orgms/api/limits/fair-admission';
import { ServiceUnavailableError, TooManyRequestsError } from '@orgms/common/errors';
import { expect } from 'chai';

describe('Fair admission (no servers)', () => {
  const limits = { concurrency: 1, perLane: 1, queuePerLane: 10, maxWaitMs: 60_000 };
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it("when the replica serves one at a time, then two organizations' queued requests are admitted alternately, not one's backlog first", async () => {
    const admission = new FairAdmission(limits);
    const order: string[] = [];
    const releases: Release[] = [];
    const first = await admission.admit('org:a');
    const queued = ['org:a', 'org:a', 'org:a', 'org:b', 'org:b'].map((lane) =>
      admission.admit(lane).then((release) => {
        order.push(lane);
        releases.push(release);
      }),
    );
    first();
    for (let i = 0; i < 5; i++) {
      await settle();
      releases.shift()?.();
    }
    await Promise.all(queued);
    expect(order).to.deep.equal(['org:a', 'org:b', 'org:a', 'org:b', 'org:a']);
    expect(admission.load()).to.deep.equal({ serving: 0, waiting: 0 });
    expect(admission.waits().count).to.equal(5);
  });

  it('when an organization is at its own cap, then another organization is served at once', async () => {
    const admission = new FairAdmission({ ...limits, concurrency: 4 });
    await admission.admit('org:a');
    let waited = true;
    const a = admission.admit('org:a').then(() => (waited = false));
    await admission.admit('org:b');
    await settle();
    expect(waited).to.equal(true);
    expect(admission.load()).to.deep.equal({ serving: 2, waiting: 1 });
    void a;
  });

  it('when an organization over its in-flight cap waits past the bound, then it is refused (429) with Retry-After', async () => {
    const admission = new FairAdmission({ ...limits, concurrency: 4, maxWaitMs: 20 });
    const release = await admission.admit('org:a');
    const refused = await admission.admit('org:a').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(TooManyRequestsError);
    expect((refused as TooManyRequestsError).retryAfterSeconds).to.equal(1);
    expect(admission.refusals()).to.deep.equal({ lane: 1, replica: 0 });
    expect(admission.load()).to.deep.equal({ serving: 1, waiting: 0 });
    release();
    // Its slot is back: the next one is served at once.
    admission.admit('org:a').then((again) => again());
  });

  it("when an organization's queue is full, then its next request is refused at once", async () => {
    const admission = new FairAdmission({ ...limits, concurrency: 4, queuePerLane: 1 });
    await admission.admit('org:a');
    const waiting = admission.admit('org:a');
    const refused = await admission.admit('org:a').catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(TooManyRequestsError);
    expect(admission.load()).to.deep.equal({ serving: 1, waiting: 1 });
    void waiting;
  });

  it('when the replica stays full for the whole bound, then a quiet organization is told the server is busy (503) with Retry-After', async () => {
    const admission = new FairAdmission({ ...limits, maxWaitMs: 20 });
    await admission.admit('org:a');
    const refused = await admission.admit('org:b').catch((error: unknown) => error);
    expect(refused).to.be.instanceOf(ServiceUnavailableError);
    expect((refused as ServiceUnavailableError).retryAfterSeconds).to.equal(1);
    expect(admission.refusals()).to.deep.equal({ lane: 0, replica: 1 });
  });

  it('when a release is called twice, then only one slot is given back', async () => {
    const admission = new FairAdmission({ ...limits, concurrency: 2, perLane: 2 });
    const release = await admission.admit('org:a');
    await admission.admit('org:b');
    release();
    release();
    expect(admission.load()).to.deep.equal({ serving: 1, waiting: 0 });
  });

  it("when a platform admin sends many requests at once, then they are capped only by the replica, not by an organization's share", async () => {
    const admission = new FairAdmission({ ...limits, concurrency: 4, perLane: 1 });
    const admin = await Promise.all([1, 2, 3].map(() => admission.admit('admin:root')));
    expect(admission.load()).to.deep.equal({ serving: 3, waiting: 0 });
    const firstOfOrg = await admission.admit('org:a');
    // The organization's second request waits for its own share, though the replica has room again below.
    const secondOfOrg = admission.admit('org:a');
    expect(admission.load()).to.deep.equal({ serving: 4, waiting: 1 });
    for (const release of admin) release();
    expect(admission.load()).to.deep.equal({ serving: 1, waiting: 1 });
    firstOfOrg();
    (await secondOfOrg)();
  });
});
