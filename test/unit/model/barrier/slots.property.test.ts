/**
 * Property tests of the persistent slot vector behind a barrier's arrivals, against a plain array
 * kept by the test, and of barriers large enough to use two and three levels of it.
 */
import fc from 'fast-check';
import {
  arrivalTimes,
  arrive,
  createBarrier,
  hasArrived,
  waitingParticipants,
  type BarrierState,
} from '../../../../src/model/barrier';
import { forEachSlot, getSlot, setSlot, slotDepth, type SlotTrie } from '../../../../src/model/barrier/slots';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe('slot vector', () => {
  it('reads back what was set, leaves every older version as it was, and survives JSON', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40_000 }).chain((size) =>
          fc.record({
            size: fc.constant(size),
            writes: fc.array(fc.tuple(fc.nat({ max: size - 1 }), fc.integer()), { maxLength: 60 }),
          }),
        ),
        ({ size, writes }) => {
          const depth = slotDepth(size);
          expect(32 ** depth).toBeGreaterThanOrEqual(size);
          const versions: { trie: SlotTrie; model: Map<number, number>; json: string }[] = [];
          let trie: SlotTrie = [];
          let model = new Map<number, number>();
          for (const [index, value] of writes) {
            versions.push({ trie, model, json: JSON.stringify(trie) });
            trie = setSlot(deepFreeze(trie), depth, index, value);
            model = new Map(model).set(index, value);
          }
          versions.push({ trie, model, json: JSON.stringify(trie) });
          for (const v of versions) {
            expect(JSON.stringify(v.trie)).toBe(v.json); // no later write changed it
            expect(JSON.parse(v.json)).toStrictEqual(v.trie);
            for (const [index, value] of v.model) expect(getSlot(v.trie, depth, index)).toBe(value);
            const visited: [number, number][] = [];
            forEachSlot<number>(v.trie, depth, (value, index) => visited.push([index, value]));
            expect(visited).toEqual([...v.model].sort((a, b) => a[0] - b[0]));
          }
          // Untouched slots read as empty, including ones past every node written so far.
          for (const index of [0, size - 1, Math.floor(size / 2)])
            if (!model.has(index)) expect(getSlot(trie, depth, index)).toBeNull();
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a write copies one node per level and shares every other with the version before', () => {
    const nodes = (trie: SlotTrie, depth: number): SlotTrie[] =>
      depth === 1
        ? [trie]
        : [trie, ...trie.flatMap((child) => (child ? nodes(child as SlotTrie, depth - 1) : []))];
    for (const size of [20, 2000, 40_000]) {
      const depth = slotDepth(size);
      let trie: SlotTrie = [];
      for (let i = 0; i < size; i++) trie = setSlot(trie, depth, i, i);
      const before = new Set(nodes(trie, depth));
      const next = setSlot(trie, depth, size - 7, -1);
      expect(nodes(next, depth).filter((node) => !before.has(node))).toHaveLength(depth);
    }
  });
});

describe('large barriers', () => {
  const names = (n: number) =>
    Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 'constructor' : `w${i}`) + `-${i}`);

  it('keep every arrival with its time, answer in arrival order, and cross on the last', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 33, max: 1_100 })
          .chain((n) =>
            fc
              .record({ order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }) })
              .map(({ order }) => ({ n, order })),
          ),
        ({ n, order }) => {
          const participants = names(n);
          let state: BarrierState = createBarrier('s', 'big', participants);
          const expected: Record<string, number> = {};
          order.forEach((index, step) => {
            const who = participants[index]!;
            const t = arrive(state, who, 1000 + step * 3, 600_000);
            expect(t.rejected).toBeUndefined();
            expected[who] = 1000 + step * 3;
            if (step < n - 1) {
              expect(t.outcomes).toEqual([]);
              expect(hasArrived(t.state, who)).toBe(true);
              expect(hasArrived(state, who)).toBe(false); // the state before is untouched
            } else {
              expect(t.state.status).toBe('crossed');
              expect(t.outcomes.map((o) => o.participant)).toEqual(order.map((i) => participants[i]));
            }
            state = t.state;
            if (step === Math.floor(n / 2))
              expect(waitingParticipants(state)).toEqual(
                order.slice(0, step + 1).map((i) => participants[i]),
              );
          });
          expect(arrivalTimes(state)).toEqual(expected);
          expect(Object.keys(arrivalTimes(state))).toEqual(order.map((i) => participants[i]));
          expect(waitingParticipants(state)).toEqual([]);
          expect(JSON.parse(JSON.stringify(state))).toStrictEqual(state);
        },
      ),
      { numRuns: 40 },
    );
  });
});
