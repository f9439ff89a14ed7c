/**
 * Property tests: random interleavings of arrivals (with random per-arrival timeouts),
 * withdrawals, abandons, operator commands and clock advances over random participant sets,
 * checked against the invariants of SPEC section 3 after every single step.
 */
import fc from 'fast-check';
import {
  abandon,
  arrivalTimes,
  arrive,
  createBarrier,
  expire,
  nextDeadline,
  operatorBreak,
  operatorRelease,
  hasArrived,
  waitingParticipants,
  withdraw,
  type BarrierState,
  type Outcome,
  type Transition,
} from '../../../../src/model/barrier';

const T0 = 1_700_000_000_000;
// Includes names that are Object.prototype members: records keyed by participant must cope.
const NAMES = ['a', 'b', 'c', 'd', 'toString', 'constructor'];
const OUTSIDER = 'zed';

type Command =
  | { op: 'arrive'; who: number; timeoutMs: number }
  | { op: 'withdraw'; who: number }
  | { op: 'abandon'; who: number }
  | { op: 'release' }
  | { op: 'break' }
  | { op: 'expire' } // the coordinator's timer fires now
  // Clock only, no input: lets signals be handled after a deadline passed without an expire first.
  | { op: 'advance'; ms: number }
  | { op: 'toDeadline' }; // exactly to the next deadline, as when a signal and the timer share an activation

// `who` indexes participants; one past the end is an outsider, so unknown participants get exercised.
const who = fc.nat({ max: NAMES.length });
const arriveArb = (maxTimeoutMs: number) =>
  fc.record({
    op: fc.constant('arrive' as const),
    who,
    timeoutMs: fc.integer({ min: 1, max: maxTimeoutMs }),
  });
const withdrawArb = fc.record({ op: fc.constant('withdraw' as const), who });
const clockArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'toDeadline' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'expire' as const }) },
);
/** Anything can happen: barriers mostly end broken, forced or timed out. */
const chaoticCommandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: arriveArb(2_000) },
  { weight: 2, arbitrary: withdrawArb },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('abandon' as const), who }) },
  { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'break' as const }) },
  { weight: 5, arbitrary: clockArb },
);
/** No failures and long timeouts, so that large barriers also get to cross (and see late arrivals). */
const calmCommandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: arriveArb(20_000) },
  { weight: 2, arbitrary: withdrawArb },
  { weight: 3, arbitrary: clockArb },
);
const scenarioArb = fc.record({
  participants: fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 6 }),
  commands: fc.oneof(
    fc.array(chaoticCommandArb, { maxLength: 40, size: 'max' }),
    fc.array(calmCommandArb, { maxLength: 40, size: 'max' }),
  ),
});

type Input = Exclude<Command, { op: 'advance' | 'toDeadline' }>;

function apply(state: BarrierState, command: Input, nowMs: number): Transition<BarrierState> {
  const name = (i: number) => state.participants[i] ?? OUTSIDER;
  switch (command.op) {
    case 'arrive':
      return arrive(state, name(command.who), nowMs, command.timeoutMs);
    case 'withdraw':
      return withdraw(state, name(command.who), nowMs);
    case 'abandon':
      return abandon(state, name(command.who), `failure of ${name(command.who)}`, nowMs);
    case 'release':
      return operatorRelease(state, 'operator says go', nowMs);
    case 'break':
      return operatorBreak(state, 'operator says stop', nowMs);
    case 'expire':
      return expire(state, nowMs);
  }
}

const isFinal = (s: BarrierState) => s.status !== 'standing';
const accountedFor = (s: BarrierState, p: string) => hasArrived(s, p) || s.withdrawn.includes(p);
const resolutionOf = ({ status, resolvedAt, reason, brokenBy, missing, withdrawn }: BarrierState) => ({
  status,
  resolvedAt,
  reason,
  brokenBy,
  missing,
  withdrawn,
});
const expectedKind = {
  crossed: 'released',
  forced: 'released',
  broken: 'broken',
  'timed-out': 'timed-out',
} as const;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/** Runs a scenario, calling `check` after every step with everything a property may need. */
function simulate(
  scenario: { participants: string[]; commands: Command[] },
  check: (step: {
    pre: BarrierState;
    post: BarrierState;
    transition: Transition<BarrierState>;
    command: Input;
    nowMs: number;
    delivered: ReadonlyMap<string, Outcome[]>;
    /** The test's own account of each participant's deadline: its arrival + its own timeoutMs. */
    deadlineOf: ReadonlyMap<string, number>;
  }) => void,
): void {
  let state = createBarrier('deploy', 'gate', scenario.participants);
  let nowMs = T0;
  const delivered = new Map<string, Outcome[]>();
  const deadlineOf = new Map<string, number>();
  for (const command of scenario.commands) {
    if (command.op === 'advance') {
      nowMs += command.ms;
      continue;
    }
    if (command.op === 'toDeadline') {
      nowMs = Math.max(nowMs, nextDeadline(state) ?? nowMs);
      continue;
    }
    // Frozen inputs make any mutation throw (test files run in strict mode).
    const pre = deepFreeze(state);
    const before = JSON.stringify(pre);
    const transition = apply(pre, command, nowMs);
    expect(JSON.stringify(pre)).toBe(before);
    expect(apply(JSON.parse(before) as BarrierState, command, nowMs)).toEqual(transition); // deterministic, JSON-safe
    for (const o of transition.outcomes)
      delivered.set(o.participant, [...(delivered.get(o.participant) ?? []), o]);
    const arrived = command.op === 'arrive' ? pre.participants[command.who] : undefined;
    if (arrived !== undefined && !hasArrived(pre, arrived) && hasArrived(transition.state, arrived))
      deadlineOf.set(arrived, nowMs + (command as { timeoutMs: number }).timeoutMs);
    check({ pre, post: transition.state, transition, command, nowMs, delivered, deadlineOf });
    state = transition.state;
  }
}

const runs = { numRuns: 300 };

describe('barrier properties', () => {
  it('crosses at most once, and only when every participant arrived or withdrew', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        let crossings = 0;
        simulate(scenario, ({ pre, post }) => {
          if (post.status === 'crossed' && pre.status !== 'crossed') crossings += 1;
          if (post.status === 'crossed') {
            expect(post.participants.every((p) => accountedFor(post, p))).toBe(true);
          }
          if (post.status === 'standing') {
            expect(post.participants.some((p) => !accountedFor(post, p))).toBe(true);
          }
          // The counter the barrier crosses on is exactly who has neither arrived nor withdrawn.
          expect(post.pending).toBe(post.participants.filter((p) => !accountedFor(post, p)).length);
        });
        expect(crossings).toBeLessThanOrEqual(1);
      }),
      runs,
    );
  });

  it('every outcome matches the final status: a broken or timed-out barrier never releases anyone', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ post, transition }) => {
          if (post.status === 'standing') {
            expect(transition.outcomes).toEqual([]);
            return;
          }
          for (const o of transition.outcomes) {
            expect(o.kind).toBe(expectedKind[post.status]);
            expect(o.errorType).toBe(
              o.kind === 'broken' ? 'barrier-broken' : o.kind === 'timed-out' ? 'barrier-timeout' : undefined,
            );
            expect([o.stage, o.identifier]).toEqual(['deploy', 'gate']);
            if (post.brokenBy !== undefined) expect(o.message).toContain(`broken by ${post.brokenBy}`);
            for (const m of post.missing ?? []) expect(o.message).toContain(m);
          }
        });
      }),
      runs,
    );
  });

  it('every participant that arrived gets exactly one outcome: none twice, none lost once final', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ post, delivered }) => {
          for (const [participant, outcomes] of delivered) {
            expect(outcomes).toHaveLength(1);
            expect(hasArrived(post, participant)).toBe(true);
          }
          const arrived = Object.keys(arrivalTimes(post));
          if (isFinal(post)) {
            expect(waitingParticipants(post)).toEqual([]);
            for (const p of arrived) expect(delivered.get(p)).toHaveLength(1);
          } else {
            // While standing nobody has been answered, and everyone who arrived is waiting.
            expect(delivered.size).toBe(0);
            expect([...waitingParticipants(post)].sort()).toEqual([...arrived].sort());
          }
        });
      }),
      runs,
    );
  });

  it('final states never change; later arrivals are only recorded', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ pre, post }) => {
          if (!isFinal(pre)) return;
          expect(resolutionOf(post)).toEqual(resolutionOf(pre));
          expect(post.participants).toEqual(pre.participants);
          for (const [p, at] of Object.entries(arrivalTimes(pre))) expect(arrivalTimes(post)[p]).toBe(at);
        });
      }),
      runs,
    );
  });

  it('nextDeadline is the earliest deadline of a waiting participant while standing, undefined once final', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ post, nowMs, deadlineOf }) => {
          if (isFinal(post)) {
            expect(nextDeadline(post)).toBeUndefined();
            expect(post).not.toHaveProperty('deadline');
            return;
          }
          const deadlines = waitingParticipants(post).map((p) => deadlineOf.get(p) as number);
          expect(nextDeadline(post)).toBe(deadlines.length === 0 ? undefined : Math.min(...deadlines));
          // Every operation catches up with the clock: a standing barrier has nothing overdue.
          if (deadlines.length > 0) expect(nextDeadline(post)).toBeGreaterThan(nowMs);
        });
      }),
      runs,
    );
  });

  it("times out only when a waiting participant's deadline passed; missing is exactly who had not arrived or withdrawn", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ pre, post, nowMs, deadlineOf }) => {
          if (pre.status === 'standing' && post.status === 'timed-out') {
            expect(waitingParticipants(pre).some((p) => (deadlineOf.get(p) as number) <= nowMs)).toBe(true);
            expect(post.missing).toEqual(pre.participants.filter((p) => !accountedFor(pre, p)));
            expect(post.resolvedAt).toBe(nowMs);
          }
        });
      }),
      runs,
    );
  });

  it('a rejected input changes nothing, unless the clock resolved the barrier first', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ pre, post, transition }) => {
          if (transition.rejected === undefined) return;
          if (pre.status === post.status) expect(post).toBe(pre);
          else expect(post.status).toBe('timed-out');
        });
      }),
      runs,
    );
  });

  it('an abandon by a participant that has not crossed or withdrawn breaks a standing barrier', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        simulate(scenario, ({ pre, post, command, nowMs, deadlineOf }) => {
          if (command.op !== 'abandon' || pre.status !== 'standing') return;
          const participant = pre.participants[command.who];
          const overdue = waitingParticipants(pre).some((p) => (deadlineOf.get(p) as number) <= nowMs);
          if (participant === undefined || pre.withdrawn.includes(participant) || overdue) return;
          expect(post).toMatchObject({ status: 'broken', brokenBy: participant });
        });
      }),
      runs,
    );
  });
});
