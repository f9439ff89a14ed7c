/**
 * The static barrier-order deadlock check against a brute-force simulation of workflows crossing
 * barriers, on random small stages.
 */
import fc from 'fast-check';
import {
  type BarrierOrderWorkflow,
  describeDeadlock,
  findBarrierDeadlocks,
} from '../../../src/pipeline-file/barrier-order';

const visit = (identifier: string, skip = false) => ({ identifier, skip });

/**
 * Simulates a stage: each workflow walks its barriers in order; a skipped barrier counts as an
 * arrival without waiting; a barrier crosses when every workflow containing it has arrived.
 * Returns true when the simulation gets stuck before every workflow finished.
 */
function simulateDeadlock(workflows: readonly BarrierOrderWorkflow[]): boolean {
  const participants = new Map<string, number[]>();
  workflows.forEach((workflow, index) =>
    workflow.barriers.forEach((barrier) =>
      participants.set(barrier.identifier, [...(participants.get(barrier.identifier) ?? []), index]),
    ),
  );
  const arrived = new Map<string, Set<number>>();
  const crossed = new Set<string>();
  const position = workflows.map(() => 0);
  for (let progress = true; progress;) {
    progress = false;
    workflows.forEach((workflow, index) => {
      // Advance while possible: arrive at the current barrier; move on if skipped or crossed.
      for (;;) {
        const barrier = workflow.barriers[position[index]!];
        if (!barrier) return;
        const set = arrived.get(barrier.identifier) ?? new Set<number>();
        if (!set.has(index)) {
          set.add(index);
          arrived.set(barrier.identifier, set);
          progress = true;
        }
        if (set.size === participants.get(barrier.identifier)!.length) crossed.add(barrier.identifier);
        if (!barrier.skip && !crossed.has(barrier.identifier)) return;
        position[index] = position[index]! + 1;
        progress = true;
      }
    });
  }
  return workflows.some((workflow, index) => position[index]! < workflow.barriers.length);
}

/** Random stages: 2-4 workflows, each a random ordering of a random subset of 1-4 barriers. */
const stageArbitrary = fc
  .integer({ min: 1, max: 4 })
  .chain((barrierCount) => {
    const identifiers = Array.from({ length: barrierCount }, (_, i) => `b${i}`);
    const workflow = fc
      .shuffledSubarray(identifiers, { minLength: 0, maxLength: barrierCount })
      .chain((order) =>
        fc
          .array(fc.boolean(), { minLength: order.length, maxLength: order.length })
          .map((skips) => order.map((id, i) => visit(id, skips[i]!))),
      );
    return fc.array(workflow, { minLength: 2, maxLength: 4 });
  })
  .map((lists) => lists.map((barriers, i) => ({ name: `w${i}`, barriers })));

describe('findBarrierDeadlocks', () => {
  it('finds nothing when everyone crosses in the same order', () => {
    expect(
      findBarrierDeadlocks([
        { name: 'a', barriers: [visit('x'), visit('y')] },
        { name: 'b', barriers: [visit('x'), visit('y')] },
      ]),
    ).toEqual([]);
  });

  it('describes a two-barrier deadlock as the spec does', () => {
    const deadlocks = findBarrierDeadlocks([
      { name: 'payments', barriers: [visit('services-deployed'), visit('db-migrated')] },
      { name: 'orders', barriers: [visit('db-migrated'), visit('services-deployed')] },
    ]);
    expect(deadlocks.map(describeDeadlock)).toEqual([
      'barrier order deadlock: payments reaches services-deployed before db-migrated, but orders reaches db-migrated before services-deployed',
    ]);
  });

  it('joins orderings of one workflow through barriers in between', () => {
    const deadlocks = findBarrierDeadlocks([
      { name: 'a', barriers: [visit('x'), visit('m'), visit('y')] },
      { name: 'b', barriers: [visit('y'), visit('x')] },
    ]);
    expect(deadlocks.map(describeDeadlock)).toEqual([
      'barrier order deadlock: a reaches x before y, but b reaches y before x',
    ]);
  });

  it('reports independent cycles separately', () => {
    const deadlocks = findBarrierDeadlocks([
      { name: 'a', barriers: [visit('x'), visit('y')] },
      { name: 'b', barriers: [visit('y'), visit('x')] },
      { name: 'c', barriers: [visit('p'), visit('q')] },
      { name: 'd', barriers: [visit('q'), visit('p')] },
    ]);
    expect(deadlocks).toHaveLength(2);
  });

  it('handles thousands of barriers without recursion', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => visit(`b${i}`));
    expect(
      findBarrierDeadlocks([
        { name: 'a', barriers: ids },
        { name: 'b', barriers: ids },
      ]),
    ).toEqual([]);
    const deadlocks = findBarrierDeadlocks([
      { name: 'a', barriers: ids },
      { name: 'b', barriers: [...ids].reverse() },
    ]);
    expect(deadlocks).toHaveLength(1);
  });

  it('agrees with a brute-force simulation on random small stages', () => {
    fc.assert(
      fc.property(stageArbitrary, (workflows) => {
        const found = findBarrierDeadlocks(workflows);
        expect(found.length > 0).toBe(simulateDeadlock(workflows));
        // Every reported ordering is true of the named workflow.
        for (const deadlock of found) {
          for (const ordering of deadlock.cycle) {
            const order = workflows
              .find((w) => w.name === ordering.workflow)!
              .barriers.map((b) => b.identifier);
            expect(order.indexOf(ordering.before)).toBeLessThan(order.indexOf(ordering.after));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('draws both deadlocked and safe stages, so the property above means something', () => {
    const samples = fc.sample(stageArbitrary, { numRuns: 500, seed: 42 });
    const deadlocked = samples.filter(simulateDeadlock).length;
    expect(deadlocked).toBeGreaterThan(25);
    expect(deadlocked).toBeLessThan(475);
  });
});
