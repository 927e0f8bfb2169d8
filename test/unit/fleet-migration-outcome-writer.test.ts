import { OutcomeWriter } from '@orgms/worker/fleet-migrations/outcome-writer';
import { expect } from 'chai';

describe('Outcomes of a fleet migration batch, written in the background', () => {
  /** A write that waits until the spec lets it finish, recording what it was given. */
  function heldWrites() {
    const writes: string[][] = [];
    const releases: ((error?: Error) => void)[] = [];
    const write = (orgIds: string[]) =>
      new Promise<void>((resolve, reject) => {
        writes.push(orgIds);
        releases.push((error) => (error ? reject(error) : resolve()));
      });
    const release = async (error?: Error) => {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      (releases.shift() as (error?: Error) => void)(error);
    };
    return { writes, write, release };
  }

  it('when organizations finish while a write is in flight, then the next write takes all of them at once, in order', async () => {
    const { writes, write, release } = heldWrites();
    const reported: string[][] = [];
    const writer = new OutcomeWriter(write, (ids) => reported.push(ids));
    writer.add('a');
    await new Promise((resolve) => setImmediate(resolve));
    writer.add('b');
    writer.add('c');
    await release();
    await release();
    await writer.settled();
    expect(writes).to.deep.equal([['a'], ['b', 'c']]);
    expect(reported).to.deep.equal([['a'], ['b', 'c']]);
  });

  it('when a write fails, then its organizations are reported with the error and the later ones are still written', async () => {
    const { writes, write, release } = heldWrites();
    const reported: { ids: string[]; error?: unknown }[] = [];
    const writer = new OutcomeWriter(write, (ids, error) => reported.push({ ids, error }));
    writer.add('a');
    await release(new Error('control database unreachable'));
    writer.add('b');
    await release();
    await writer.settled();
    expect(writes).to.deep.equal([['a'], ['b']]);
    expect(reported.map((r) => [r.ids, (r.error as Error | undefined)?.message])).to.deep.equal([
      [['a'], 'control database unreachable'],
      [['b'], undefined],
    ]);
  });
});
