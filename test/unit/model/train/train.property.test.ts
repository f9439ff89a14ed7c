/**
 * Property tests of a release train run (src/model/train/train.ts) and of what the train
 * workflow believes (train-run.ts): random interleavings of arrivals from expected, unexpected
 * and repeated pipelines, abandons, operator commands and clock advances, checked after every
 * step against the rules of SPEC section 3 as issue 14 carries them over to pipelines.
 */
import fc from 'fast-check';
import * as Train from '../../../../src/model/train/train';
import { TrainRun } from '../../../../src/model/train/train-run';
import type { TrainArrival } from '../../../../src/model/protocol';

const T0 = 1_700_000_000_000;
const EXPECT = ['payments', 'checkout', 'search'];
/** Names pipelines arrive under: the expected ones, an unexpected one, a prototype member. */
const NAMES = [...EXPECT, 'stranger', 'constructor'];

type Command =
  /** `id` tells apart two pipelines under one name (a second run of the same file). */
  | { op: 'arrive'; who: number; id: number; timeoutMs: number; wrongExpect: boolean }
  | { op: 'abandon'; who: number; id: number }
  | { op: 'release' }
  | { op: 'break' }
  | { op: 'expire' }
  | { op: 'advance'; ms: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('arrive' as const),
      who: fc.nat({ max: NAMES.length - 1 }),
      id: fc.nat({ max: 1 }),
      timeoutMs: fc.integer({ min: 0, max: 2_000 }),
      wrongExpect: fc.boolean().map((b) => b && Math.random() < 0.2),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('abandon' as const),
      who: fc.nat({ max: NAMES.length - 1 }),
      id: fc.nat({ max: 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'break' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'expire' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
  },
);

const pipelineId = (name: string, id: number) => `${name}-run-${id}`;
const token = (name: string, id: number) => `token-of-${name}-${id}-0123456789`;

interface Model {
  /** Pipeline IDs whose arrival was counted: each must get exactly one outcome. */
  counted: Set<string>;
  /** Pipeline ID → outcomes it got. */
  answered: Map<string, number>;
}

function step(state: Train.TrainState, command: Command, now: number): Train.TrainTransition {
  switch (command.op) {
    case 'arrive': {
      const name = NAMES[command.who]!;
      return Train.arrive(
        state,
        {
          pipeline: name,
          pipelineId: pipelineId(name, command.id),
          token: token(name, command.id),
          expect: command.wrongExpect ? EXPECT.slice(0, 2) : [...EXPECT].reverse(),
          arrivedAt: now,
          timeoutMs: command.timeoutMs,
        },
        now,
      );
    }
    case 'abandon': {
      const name = NAMES[command.who]!;
      return Train.abandon(
        state,
        {
          pipeline: name,
          pipelineId: pipelineId(name, command.id),
          token: token(name, command.id),
          reason: 'failed',
        },
        now,
      );
    }
    case 'release':
      return Train.operatorRelease(state, 'ops', now);
    case 'break':
      return Train.operatorBreak(state, 'ops', now);
    case 'expire':
      return Train.expire(state, now);
    case 'advance':
      return { state, outcomes: [] };
  }
}

test('every counted pipeline gets exactly one outcome, with its own token; final states are sticky', () => {
  fc.assert(
    fc.property(fc.array(commandArb, { maxLength: 40 }), (commands) => {
      let state = Train.createTrain('spring', 'cutover', EXPECT, T0);
      let now = T0;
      const model: Model = { counted: new Set(), answered: new Map() };
      let finalStatus: string | undefined;
      /** Pipelines that broke the train while waiting there: failing, so nobody answers them. */
      const exempt = new Set<string>();
      for (const command of commands) {
        if (command.op === 'advance') now += command.ms;
        const before = state;
        if (command.op === 'abandon' && Train.isStanding(state)) {
          const name = NAMES[command.who]!;
          if (Train.memberOf(state, name)?.pipelineId === pipelineId(name, command.id))
            exempt.add(pipelineId(name, command.id));
        }
        const transition = step(state, command, now);
        state = transition.state;
        for (const outcome of transition.outcomes) {
          // The outcome goes to the pipeline that arrived, with that pipeline's token.
          const name = outcome.pipeline;
          const id = Number(outcome.pipelineId.split('-run-')[1]);
          expect(outcome.token).toBe(token(name, id));
          model.answered.set(outcome.pipelineId, (model.answered.get(outcome.pipelineId) ?? 0) + 1);
          expect(outcome.kind === 'released').toBe(outcome.errorType === undefined);
        }
        for (const member of Object.values(state.members)) model.counted.add(member.pipelineId);
        // Final is sticky, and nothing is carried while the train stands.
        if (finalStatus !== undefined) expect(state.barrier.status).toBe(finalStatus);
        if (!Train.isStanding(state)) finalStatus = state.barrier.status;
        if (transition.carry) expect(Train.isStanding(before) && Train.isStanding(state)).toBe(false);
        // Crossed only when every expected pipeline arrived.
        if (state.barrier.status === 'crossed') expect(Train.missingPipelines(state)).toEqual([]);
        // A standing train waits with a deadline exactly when someone waits.
        if (Train.isStanding(state) && command.op !== 'advance') {
          expect(Train.nextDeadline(state) === undefined).toBe(Object.keys(state.members).length === 0);
          expect(Train.nextDeadline(state)! > now || Train.nextDeadline(state) === undefined).toBe(true);
        }
      }
      // Resolve whatever stands: then every counted pipeline has had its one outcome...
      const end = Train.operatorBreak(state, 'end', now);
      for (const outcome of end.outcomes)
        model.answered.set(outcome.pipelineId, (model.answered.get(outcome.pipelineId) ?? 0) + 1);
      for (const id of model.counted) {
        // ...except one that broke the train itself while waiting: it is failing, nobody tells it.
        expect({ id, outcomes: model.answered.get(id) ?? 0 }).toEqual({
          id,
          outcomes: exempt.has(id) ? 0 : 1,
        });
      }
      // Members are only expected pipelines, one per name.
      for (const name of Object.keys(end.state.members)) expect(EXPECT).toContain(name);
    }),
    { numRuns: 500 },
  );
});

test('a timed-out train names exactly the expected pipelines that had not arrived', () => {
  fc.assert(
    fc.property(
      fc.subarray(EXPECT, { minLength: 1 }),
      fc.integer({ min: 0, max: 5_000 }),
      (arrived, timeoutMs) => {
        let state = Train.createTrain('spring', 'cutover', EXPECT, T0);
        const outcomes: Train.TrainOutcome[] = [];
        for (const name of arrived) {
          const transition = Train.arrive(
            state,
            {
              pipeline: name,
              pipelineId: name,
              token: token(name, 0),
              expect: EXPECT,
              arrivedAt: T0,
              timeoutMs,
            },
            T0,
          );
          state = transition.state;
          outcomes.push(...transition.outcomes);
        }
        if (arrived.length === EXPECT.length && timeoutMs > 0) {
          expect(state.barrier.status).toBe('crossed');
          return;
        }
        const expired = Train.expire(state, T0 + timeoutMs);
        outcomes.push(...expired.outcomes);
        expect(expired.state.barrier.status).toBe('timed-out');
        // With no time to wait, the first arrival times out at once, naming all the others.
        const missing = EXPECT.filter((p) => !(timeoutMs === 0 ? arrived.slice(0, 1) : arrived).includes(p));
        expect(expired.state.barrier.missing).toEqual(missing);
        // Later arrivals at the timed-out run are for the next run: no outcome from this one.
        const counted = timeoutMs === 0 ? arrived.slice(0, 1) : arrived;
        expect(outcomes.map((o) => o.pipeline).sort()).toEqual([...counted].sort());
        for (const outcome of outcomes) {
          expect(outcome.errorType).toBe('barrier-timeout');
          for (const name of missing) expect(outcome.message).toContain(name);
        }
      },
    ),
  );
});

test('the train run counts only confirmed messages, under the name the pipeline confirmed', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ who: fc.nat({ max: EXPECT.length - 1 }), confirmed: fc.boolean(), lie: fc.boolean() }),
        { maxLength: 12 },
      ),
      (messages) => {
        const run = new TrainRun({ train: 'spring', identifier: 'cutover', expect: EXPECT }, T0, {
          workflowId: 'convoy-train/spring/cutover',
          runId: 'run-1',
        });
        const confirmedNames = new Set<string>();
        let refused = 0;
        for (const m of messages) {
          const name = EXPECT[m.who]!;
          const arrival: TrainArrival = {
            pipeline: name,
            pipelineId: `${name}-id`,
            token: token(name, 0),
            expect: EXPECT,
            arrivedAt: T0,
            timeoutMs: 60_000,
          };
          if (run.takeIfLate({ kind: 'arrive', arrival })) continue;
          // An unconfirmed token, or a pipeline that says it is another one, is refused.
          const membership = m.confirmed ? { pipeline: m.lie ? 'impostor' : name, expect: EXPECT } : null;
          const decision = run.receive({ kind: 'arrive', arrival }, membership, T0);
          if (decision.refused) refused += 1;
          else confirmedNames.add(name);
          expect(decision.refused !== undefined).toBe(!m.confirmed || m.lie);
        }
        const status = run.status();
        expect(Object.keys(status.arrivals).sort()).toEqual([...confirmedNames].sort());
        expect(status.rejectedMessages?.count ?? 0).toBe(refused);
        expect(status.status).toBe(confirmedNames.size === EXPECT.length ? 'crossed' : 'standing');
      },
    ),
  );
});
