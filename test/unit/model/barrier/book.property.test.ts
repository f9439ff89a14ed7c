/**
 * Property tests of the barrier book: random barriers over two stages, random keyed and bulk
 * operations and clock moves, checked after every step.
 */
import fc from 'fast-check';
import {
  hasArrived,
  Book,
  type BarrierBook,
  type BarrierKey,
  type BarrierState,
  type Transition,
} from '../../../../src/model/barrier';
import { barrierResultSchema } from '../../../../src/model/result';

const T0 = 1_700_000_000_000;
const STAGES = [
  { name: 'deploy', workflows: ['a', 'b', 'c', 'd'] },
  { name: 'verify', workflows: ['e', 'f', 'g'] },
];
const IDENTIFIERS = ['x', 'y', 'z']; // reused across stages: independent barriers

type Command =
  | { op: 'arrive'; barrier: number; who: number; timeoutMs: number }
  | { op: 'withdraw'; barrier: number; who: number }
  | { op: 'abandon'; barrier: number; who: number }
  | { op: 'release'; barrier: number }
  | { op: 'break'; barrier: number }
  | { op: 'abandonAll'; stage: number; who: number }
  | { op: 'withdrawAll'; stage: number; who: number }
  | { op: 'expireAll' }
  | { op: 'breakAllStanding' }
  | { op: 'advance'; ms: number } // clock only
  | { op: 'toDeadline' }; // clock only: to the book's next deadline

const barrier = fc.nat({ max: 5 });
const who = fc.nat({ max: 4 }); // an index into the stage's workflows; past the end is an outsider
const stage = fc.nat({ max: STAGES.length - 1 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('arrive' as const),
      barrier,
      who,
      timeoutMs: fc.integer({ min: 1, max: 3_000 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('withdraw' as const), barrier, who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abandon' as const), barrier, who }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), barrier }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('break' as const), barrier }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abandonAll' as const), stage, who }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('withdrawAll' as const), stage, who }) },
  { weight: 3, arbitrary: fc.constant({ op: 'expireAll' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'breakAllStanding' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'toDeadline' as const }) },
);

const stageBarriersArb = (workflows: string[]) =>
  fc.uniqueArray(
    fc.record({
      identifier: fc.constantFrom(...IDENTIFIERS),
      participants: fc.uniqueArray(fc.constantFrom(...workflows), {
        minLength: 1,
        maxLength: workflows.length,
      }),
    }),
    { minLength: 1, maxLength: IDENTIFIERS.length, selector: (b) => b.identifier },
  );
const scenarioArb = fc.record({
  definitions: fc
    .tuple(...STAGES.map((s) => stageBarriersArb(s.workflows)))
    .map((perStage) =>
      perStage.flatMap((barriers, i) => barriers.map((b) => ({ ...b, stage: STAGES[i]!.name }))),
    ),
  commands: fc.array(commandArb, { maxLength: 50, size: 'max' }),
});

type Input = Exclude<Command, { op: 'advance' | 'toDeadline' }>;

function apply(
  book: BarrierBook,
  keys: BarrierKey[],
  command: Input,
  nowMs: number,
): Transition<BarrierBook> {
  const keyOf = (i: number) => keys[i % keys.length]!;
  const workflowsOf = (stageName: string) => STAGES.find((s) => s.name === stageName)!.workflows;
  const nameIn = (stageName: string, i: number) => workflowsOf(stageName)[i] ?? 'zed';
  switch (command.op) {
    case 'arrive': {
      const key = keyOf(command.barrier);
      return Book.arrive(book, key, nameIn(key.stage, command.who), nowMs, command.timeoutMs);
    }
    case 'withdraw': {
      const key = keyOf(command.barrier);
      return Book.withdraw(book, key, nameIn(key.stage, command.who), nowMs);
    }
    case 'abandon': {
      const key = keyOf(command.barrier);
      return Book.abandon(book, key, nameIn(key.stage, command.who), 'failed', nowMs);
    }
    case 'release':
      return Book.operatorRelease(book, keyOf(command.barrier), 'go', nowMs);
    case 'break':
      return Book.operatorBreak(book, keyOf(command.barrier), 'stop', nowMs);
    case 'abandonAll': {
      const s = STAGES[command.stage]!.name;
      return Book.abandonAll(book, s, nameIn(s, command.who), 'failed', nowMs);
    }
    case 'withdrawAll': {
      const s = STAGES[command.stage]!.name;
      return Book.withdrawAll(book, s, nameIn(s, command.who), nowMs);
    }
    case 'expireAll':
      return Book.expireAll(book, nowMs);
    case 'breakAllStanding':
      return Book.breakAllStanding(book, 'pipeline aborted', nowMs);
  }
}

/** The earliest deadline over the standing barriers, computed from each barrier's own. */
function expectedNextDeadline(book: BarrierBook): number | undefined {
  const all = Book.listBarriers(book)
    .filter((b) => b.status === 'standing')
    .flatMap((b) => (b.deadline === undefined ? [] : [b.deadline]));
  return all.length === 0 ? undefined : Math.min(...all);
}

const resolutionOf = ({ status, resolvedAt, reason, brokenBy, missing, withdrawn }: BarrierState) => ({
  status,
  resolvedAt,
  reason,
  brokenBy,
  missing,
  withdrawn,
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

describe('barrier book properties', () => {
  it('keeps every barrier invariant across keyed and bulk operations', () => {
    fc.assert(
      fc.property(scenarioArb, ({ definitions, commands }) => {
        let book = Book.createBook(definitions);
        const keys = definitions.map(({ stage, identifier }) => ({ stage, identifier }));
        const answered = new Set<string>();
        let nowMs = T0;

        expect(Book.nextDeadline(book)).toBeUndefined();
        for (const command of commands) {
          if (command.op === 'advance') {
            nowMs += command.ms;
            continue;
          }
          if (command.op === 'toDeadline') {
            nowMs = Math.max(nowMs, Book.nextDeadline(book) ?? nowMs);
            continue;
          }
          const pre = deepFreeze(book);
          const before = JSON.stringify(pre);
          const { state: post, outcomes } = apply(pre, keys, command, nowMs);
          expect(JSON.stringify(pre)).toBe(before);

          // nextDeadline(book) is the minimum over its standing barriers.
          expect(Book.nextDeadline(post)).toBe(expectedNextDeadline(post));
          if (command.op === 'expireAll') expect(Book.nextDeadline(post) ?? Infinity).toBeGreaterThan(nowMs);

          // Every participant gets at most one outcome per barrier, and only from a barrier it takes part in.
          for (const o of outcomes) {
            const id = `${Book.keyOf(o)} ${o.participant}`;
            expect(answered.has(id)).toBe(false);
            answered.add(id);
            expect(Book.getBarrier(post, o)?.participants).toContain(o.participant);
          }

          for (const key of keys) {
            const was = Book.getBarrier(pre, key)!;
            const is = Book.getBarrier(post, key)!;
            // Final barriers never change their resolution.
            if (was.status !== 'standing') expect(resolutionOf(is)).toEqual(resolutionOf(was));
            // Bulk operations on one stage leave the other stages' barriers untouched.
            if (
              (command.op === 'abandonAll' || command.op === 'withdrawAll') &&
              key.stage !== STAGES[command.stage]!.name
            ) {
              expect(is).toBe(was);
            }
          }

          // After abandonAll / withdrawAll, no standing barrier of the stage still counts on that participant.
          if (command.op === 'abandonAll' || command.op === 'withdrawAll') {
            const s = STAGES[command.stage]!;
            const participant = s.workflows[command.who];
            for (const b of Book.listBarriers(post).filter((b) => b.stage === s.name)) {
              if (participant === undefined || !b.participants.includes(participant)) continue;
              const settled =
                b.status !== 'standing' ||
                b.withdrawn.includes(participant) ||
                (command.op === 'withdrawAll' && hasArrived(b, participant));
              expect(settled).toBe(true);
            }
          }

          for (const result of Book.toBarrierResults(post)) barrierResultSchema.parse(result);
          book = post;
        }
      }),
      { numRuns: 200 },
    );
  });
});
