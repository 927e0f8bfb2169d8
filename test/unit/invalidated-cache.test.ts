import { InvalidatedCache } from '@orgms/api/events/invalidated-cache';
import { expect } from 'chai';

function counter() {
  let loads = 0;
  return {
    load: async () => ({ n: ++loads }),
    get loads() {
      return loads;
    },
  };
}

describe('Invalidated cache (no servers)', () => {
  it('when a key is read twice while the subscription is up, then it is loaded once', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10 });
    const source = counter();
    expect(await cache.get('a', source.load)).to.deep.equal({ n: 1 });
    expect(await cache.get('a', source.load)).to.deep.equal({ n: 1 });
    expect(source.loads).to.equal(1);
  });

  it('when a change is heard, then the next read loads again', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10 });
    const source = counter();
    await cache.get('a', source.load);
    cache.invalidate('a');
    expect(await cache.get('a', source.load)).to.deep.equal({ n: 2 });
  });

  it('when a change is heard while a load is running, then that load is answered but not kept', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10 });
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const first = cache.get('a', async () => {
      await slow;
      return { n: 1 };
    });
    cache.invalidate('a');
    release();
    expect(await first).to.deep.equal({ n: 1 });
    expect(await cache.get('a', async () => ({ n: 2 })), 'the overlapping load was not kept').to.deep.equal({ n: 2 });
  });

  it('when many readers miss the same key at once, then they share one load', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10 });
    const source = counter();
    await Promise.all(Array.from({ length: 20 }, () => cache.get('a', source.load)));
    expect(source.loads).to.equal(1);
  });

  it('when the subscription is down, then every read goes to the source and nothing is kept', async () => {
    let live = false;
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => live, maxEntries: 10 });
    const source = counter();
    await cache.get('a', source.load);
    await cache.get('a', source.load);
    expect(source.loads).to.equal(2);
    expect(cache.size).to.equal(0);
    live = true;
    await cache.get('a', source.load);
    expect(cache.size).to.equal(1);
  });

  it('when more keys are read than it holds, then the least recently used goes', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 2 });
    const source = counter();
    await cache.get('a', source.load);
    await cache.get('b', source.load);
    await cache.get('a', source.load); // a is now the most recent
    await cache.get('c', source.load); // b goes
    expect(cache.size).to.equal(2);
    await cache.get('a', source.load);
    expect(source.loads, 'a was still held').to.equal(3);
    await cache.get('b', source.load);
    expect(source.loads, 'b had to be loaded again').to.equal(4);
  });

  it('when an entry is older than its time to live, then it is loaded again', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10, ttlMs: 1 });
    const source = counter();
    await cache.get('a', source.load);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await cache.get('a', source.load);
    expect(source.loads).to.equal(2);
  });

  it('when a value is served, then it is frozen, since every caller shares it', async () => {
    const cache = new InvalidatedCache<{ n: number }>({ isLive: () => true, maxEntries: 10 });
    expect(Object.isFrozen(await cache.get('a', async () => ({ n: 1 })))).to.equal(true);
  });
});
