import { pipelinePlanSchema, type StepPlan } from '../../../src/model/plan';
import {
  FAILER,
  MIN_WAIT_MS,
  fanPlan,
  failurePlan,
  lastArriverIndex,
  participantName,
  releasePlan,
  releaseTiming,
  timeoutFor,
  timeoutPlan,
} from '../../../bench/plans';

const waits = (steps: StepPlan[]) => steps.flatMap((s) => (s.type === 'wait' ? [s.durationMs] : []));

describe('benchmark plans', () => {
  it('are valid execution plans', () => {
    for (const plan of [
      releasePlan('r', 10, 3),
      failurePlan('f', 9, 2500),
      timeoutPlan('t', 700),
      fanPlan('s', 20, 4),
    ]) {
      expect(() => pipelinePlanSchema.parse(plan)).not.toThrow();
    }
  });

  it('list every workflow with a barrier step as a participant of that barrier', () => {
    const plan = fanPlan('s', 5, 2);
    expect(plan.stages[0]!.barriers).toEqual([
      { identifier: 'b1', participants: ['w0', 'w1', 'w2', 'w3', 'w4'] },
      { identifier: 'b2', participants: ['w0', 'w1', 'w2', 'w3', 'w4'] },
    ]);
    expect(failurePlan('f', 3, 2500).stages[0]!.barriers[0]!.participants).toContain(FAILER);
  });

  it('make the round’s designated participant arrive last, well after its peers', () => {
    const participants = 10;
    const plan = releasePlan('r', participants, 3);
    const timing = releaseTiming(participants);
    const workflows = plan.stages[0]!.workflows;
    for (let round = 0; round < 3; round++) {
      const perWorkflow = workflows.map((w) => waits(w.steps)[round]!);
      const designated = lastArriverIndex(round, participants);
      const last = perWorkflow[designated]!;
      const others = perWorkflow.filter((_, i) => i !== designated);
      expect(last - Math.max(...others)).toBeGreaterThanOrEqual(timing.lastQuietMs);
    }
  });

  it('never wait less than the server’s shortest precise timer', () => {
    const all = [
      releasePlan('r', 50, 2),
      failurePlan('f', 9, 2500),
      timeoutPlan('t', 700),
      fanPlan('s', 30, 4),
    ];
    for (const plan of all) {
      for (const wf of plan.stages[0]!.workflows)
        expect(Math.min(...waits(wf.steps))).toBeGreaterThanOrEqual(MIN_WAIT_MS);
    }
  });

  it('let the last-started participant arrive last first, then every participant in turn', () => {
    expect([0, 1, 2, 3].map((r) => lastArriverIndex(r, 3))).toEqual([2, 0, 1, 2]);
  });

  it('spread barrier timeouts over 500..1500 ms', () => {
    const values = Array.from({ length: 60 }, (_, i) => timeoutFor(i));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...values)).toBeLessThanOrEqual(1500);
    expect(new Set(values).size).toBe(60);
  });

  it('name participants so that they sort in plan order', () => {
    expect(participantName(7, 500)).toBe('w007');
    expect(participantName(1, 2)).toBe('w1');
  });
});
