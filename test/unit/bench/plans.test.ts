import { pipelinePlanSchema, type StepPlan } from '../../../src/model/plan';
import {
  FAILER_INDEX,
  MIN_WAIT_MS,
  TIMEOUT_RANGE_MS,
  abbaParts,
  backToBackWaits,
  barrierPlan,
  failureWaits,
  fanWaits,
  heldWaits,
  lastArriverIndex,
  participantName,
  releaseTiming,
  releaseWaits,
  timeoutFor,
  timeoutPlan,
} from '../../../bench/plans';

const waits = (steps: StepPlan[]) => steps.flatMap((s) => (s.type === 'wait' ? [s.durationMs] : []));

describe('benchmark plans', () => {
  it('are valid execution plans', () => {
    for (const plan of [
      barrierPlan('r', 'release', releaseWaits(10, 3)),
      barrierPlan('b', 'back-to-back', backToBackWaits(5, 3)),
      barrierPlan('f', 'failure', failureWaits(9, 2500), FAILER_INDEX),
      barrierPlan('s', 'fan', fanWaits(20, 4)),
      timeoutPlan('t', 700),
    ]) {
      expect(() => pipelinePlanSchema.parse(plan)).not.toThrow();
    }
  });

  it('list every workflow with a barrier step as a participant of that barrier', () => {
    const plan = barrierPlan('s', 'fan', fanWaits(5, 2));
    expect(plan.stages[0]!.barriers).toEqual([
      { identifier: 'b1', participants: ['w0', 'w1', 'w2', 'w3', 'w4'] },
      { identifier: 'b2', participants: ['w0', 'w1', 'w2', 'w3', 'w4'] },
    ]);
  });

  it('run a schedule as wait steps before barrier steps, leaving out waits of 0', () => {
    const plan = barrierPlan('b', 'back-to-back', [
      [1500, 0, 0],
      [1000, 0, 0],
    ]);
    expect(plan.stages[0]!.workflows[0]!.steps.map((s) => s.type)).toEqual([
      'wait',
      'barrier',
      'barrier',
      'barrier',
    ]);
    expect(waits(plan.stages[0]!.workflows[0]!.steps)).toEqual([1500]);
  });

  it('make the failer fail a step right before its first barrier, and nobody else', () => {
    const plan = barrierPlan('f', 'failure', failureWaits(3, 2500), FAILER_INDEX);
    const [failer, ...peers] = plan.stages[0]!.workflows;
    expect(failer!.steps.map((s) => s.type)).toEqual(['wait', 'shell', 'barrier']);
    expect(waits(failer!.steps)).toEqual([2500]);
    for (const peer of peers) expect(peer.steps.map((s) => s.type)).toEqual(['wait', 'barrier']);
  });

  it('make the round’s designated participant arrive last, well after its peers', () => {
    const participants = 10;
    const schedule = releaseWaits(participants, 3);
    const timing = releaseTiming(participants);
    for (let round = 0; round < 3; round++) {
      const perWorkflow = schedule.map((w) => w[round]!);
      const designated = lastArriverIndex(round, participants);
      const last = perWorkflow[designated]!;
      const others = perWorkflow.filter((_, i) => i !== designated);
      expect(last - Math.max(...others)).toBeGreaterThanOrEqual(timing.lastQuietMs);
    }
  });

  it('cross back-to-back barriers without waits, after one barrier from quiet', () => {
    const schedule = backToBackWaits(4, 3);
    expect(schedule.map((w) => w[0])).toEqual(releaseWaits(4, 1).map((w) => w[0]));
    for (const w of schedule) expect(w.slice(1)).toEqual([0, 0, 0]);
  });

  it("split a row's barriers over two pipelines per system, the larger half first", () => {
    expect(abbaParts(1)).toEqual([1]);
    expect(abbaParts(2)).toEqual([1, 1]);
    expect(abbaParts(3)).toEqual([2, 1]);
    expect(abbaParts(15)).toEqual([8, 7]);
    for (let n = 1; n <= 40; n++) {
      const parts = abbaParts(n);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(n);
      expect(parts.every((p) => p > 0)).toBe(true);
    }
  });

  it('hold a barrier with its last participant only', () => {
    expect(heldWaits(3, 60_000)).toEqual([[MIN_WAIT_MS], [MIN_WAIT_MS], [60_000]]);
  });

  it('never wait less than the server’s shortest precise timer before a barrier from quiet', () => {
    for (const schedule of [
      releaseWaits(50, 2),
      failureWaits(9, 2500),
      fanWaits(30, 4),
      backToBackWaits(5, 2),
    ]) {
      for (const w of schedule) expect(w[0]).toBeGreaterThanOrEqual(MIN_WAIT_MS);
    }
    for (const wf of timeoutPlan('t', 700).stages[0]!.workflows)
      expect(Math.min(...waits(wf.steps))).toBeGreaterThanOrEqual(MIN_WAIT_MS);
  });

  it('let the last-started participant arrive last first, then every participant in turn', () => {
    expect([0, 1, 2, 3].map((r) => lastArriverIndex(r, 3))).toEqual([2, 0, 1, 2]);
  });

  it('spread barrier timeouts over 100 ms..5 s without clusters', () => {
    const values = Array.from({ length: 60 }, (_, i) => timeoutFor(i));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(TIMEOUT_RANGE_MS.min);
    expect(Math.max(...values)).toBeLessThanOrEqual(TIMEOUT_RANGE_MS.max);
    expect(new Set(values).size).toBe(60);
    const sorted = [...values].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((v, i) => v - sorted[i]!);
    expect(Math.max(...gaps)).toBeLessThan(200);
    expect(sorted[0]).toBeLessThan(250);
    expect(sorted[59]).toBeGreaterThan(4800);
  });

  it('name participants so that they sort in plan order', () => {
    expect(participantName(7, 500)).toBe('w007');
    expect(participantName(1, 2)).toBe('w1');
  });
});
