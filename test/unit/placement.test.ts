import { choosePlacement, type PlacementCandidate } from '@orgms/common/fleet/placement';
import { expect } from 'chai';

const server = (name: string, capacity: number, status: PlacementCandidate['status'] = 'active'): PlacementCandidate => ({
  id: `id-${name}`,
  name,
  capacity,
  status,
});
const held = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([name, n]) => [`id-${name}`, n]));

describe('choosePlacement (fleet/placement.ts)', () => {
  it('when servers differ in free capacity, then the one with the most free capacity is chosen', () => {
    const chosen = choosePlacement([server('a', 100), server('b', 50), server('c', 500)], held({ a: 10, b: 0, c: 450 }));
    expect(chosen?.name).to.equal('a'); // 90 free beats 50 and 50
  });

  it('when free capacity ties, then the server holding fewer organizations wins, then the name decides', () => {
    expect(choosePlacement([server('a', 60), server('b', 40)], held({ a: 30, b: 10 }))?.name).to.equal('b');
    expect(choosePlacement([server('zeta', 40), server('alpha', 40)], held({}))?.name).to.equal('alpha');
    expect(choosePlacement([server('alpha', 40), server('zeta', 40)], held({}))?.name).to.equal('alpha');
  });

  it('when a server is draining, disabled or full, then it is never chosen', () => {
    const candidates = [server('draining', 1000, 'draining'), server('disabled', 1000, 'disabled'), server('full', 10), server('open', 5)];
    expect(choosePlacement(candidates, held({ full: 10, open: 4 }))?.name).to.equal('open');
    expect(choosePlacement(candidates, held({ full: 10, open: 5 }))).to.equal(undefined);
    expect(choosePlacement([server('over', 10)], held({ over: 12 }))).to.equal(undefined);
    expect(choosePlacement([server('zero', 0)], held({}))).to.equal(undefined);
  });

  it('when placing one organization after another, then they spread in proportion to capacity', () => {
    const candidates = [server('small', 20), server('large', 60)];
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i += 1) {
      const chosen = choosePlacement(candidates, counts);
      if (!chosen) throw new Error('fleet full too early');
      counts.set(chosen.id, (counts.get(chosen.id) ?? 0) + 1);
    }
    // Most free first: large takes the first 40 until both have 20 free, then they alternate.
    expect(counts.get('id-large')).to.be.within(38, 40);
    for (let i = 0; i < 40; i += 1) {
      const chosen = choosePlacement(candidates, counts);
      if (!chosen) throw new Error('fleet full too early');
      counts.set(chosen.id, (counts.get(chosen.id) ?? 0) + 1);
    }
    expect([counts.get('id-small'), counts.get('id-large')]).to.deep.equal([20, 60]);
    expect(choosePlacement(candidates, counts)).to.equal(undefined);
  });
});
