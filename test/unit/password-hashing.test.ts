import { expect } from 'chai';
import { PasswordHashing } from '../../apps/api/src/limits/password-hashing';

/** A hash function the spec finishes by hand, recording which passwords have started. */
function manualHash() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const hash = (password: string) =>
    new Promise<string>((resolve) => {
      started.push(password);
      finishers.set(password, () => resolve(`hash of ${password}`));
    });
  return { hash, started, finish: (password: string) => finishers.get(password)?.() };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Password hashing, one at a time per organization (apps/api/src/limits/password-hashing.ts)', () => {
  it('when an organization asks for a second hash while one runs, then it starts only after the first has finished', async () => {
    const fake = manualHash();
    const hashing = new PasswordHashing(fake.hash, 1);
    const first = hashing.hash('org-a', 'one');
    const second = hashing.hash('org-a', 'two');
    await settle();
    expect(fake.started).to.deep.equal(['one']);
    fake.finish('one');
    expect(await first).to.equal('hash of one');
    await settle();
    expect(fake.started).to.deep.equal(['one', 'two']);
    fake.finish('two');
    expect(await second).to.equal('hash of two');
  });

  it('when one organization has hashes waiting, then another organization hashes at once', async () => {
    const fake = manualHash();
    const hashing = new PasswordHashing(fake.hash, 1);
    void hashing.hash('org-a', 'a1');
    void hashing.hash('org-a', 'a2');
    void hashing.hash('org-a', 'a3');
    const b = hashing.hash('org-b', 'b1');
    await settle();
    expect(fake.started).to.deep.equal(['a1', 'b1']);
    fake.finish('b1');
    expect(await b).to.equal('hash of b1');
  });

  it('when a hash fails, then the organization’s next one still runs', async () => {
    let calls = 0;
    const hashing = new PasswordHashing(async (password) => {
      calls++;
      if (password === 'bad') throw new Error('hash failed');
      return `hash of ${password}`;
    });
    const failed = hashing.hash('org-a', 'bad');
    const next = hashing.hash('org-a', 'good');
    await failed.then(
      () => expect.fail('the failing hash resolved'),
      (error: Error) => expect(error.message).to.equal('hash failed'),
    );
    expect(await next).to.equal('hash of good');
    expect(calls).to.equal(2);
  });
});

describe('Password hashing, paced to a share of a thread per organization', () => {
  const slowHash = (ms: number) => async (password: string) => {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return `hash of ${password}`;
  };

  it("when an organization's hashes come back to back at a share of a half, then each next one starts only after a pause as long as the last hash", async () => {
    const hashing = new PasswordHashing(slowHash(30), 0.5);
    const started = performance.now();
    const finished: number[] = [];
    await Promise.all(['one', 'two', 'three'].map((password) => hashing.hash('org-a', password).then(() => finished.push(performance.now() - started))));
    // 30 hashing, 30 paused, 30 hashing, 30 paused, 30 hashing.
    expect(finished[0]).to.be.below(60);
    expect(finished[2]).to.be.at.least(145);
  });

  it('when another organization hashes during one organization’s pause, then it is not delayed', async () => {
    const hashing = new PasswordHashing(slowHash(30), 0.1);
    await hashing.hash('org-a', 'a1');
    const started = performance.now();
    await hashing.hash('org-b', 'b1');
    expect(performance.now() - started).to.be.below(100);
  });
});
