/** The pipeline workflow's decisions beyond the barrier book, without Temporal. */
import fc from 'fast-check';
import { PIPELINE_ABORTED_REASON, PipelineRun } from '../../../src/model/pipeline-run';
import type { BarrierStepPlan, PipelinePlan, StagePlan } from '../../../src/model/plan';
import { pipelineResultSchema } from '../../../src/model/result';
import { pipelineVisibility } from '../../../src/model/visibility';
import { compilePipelineText } from '../../../src/pipeline-file/compile';

const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);

const plan: PipelinePlan = compilePipelineText(
  `
name: run-test
stages:
  - name: deploy
    workflows:
      - name: a
        steps: [{ name: go, type: shell, command: "true" }, { name: gate, type: barrier, identifier: gate, timeoutMs: 1000 }]
      - name: b
        steps: [{ name: go, type: shell, command: "true" }, { name: gate, type: barrier, identifier: gate, timeoutMs: 5000 }]
      - name: c
        steps: [{ name: gate, type: barrier, identifier: gate }, { name: late, type: barrier, identifier: late }]
      - name: d
        steps: [{ name: late, type: barrier, identifier: late }]
  - name: verify
    workflows:
      - name: e
        steps: [{ name: check, type: barrier, identifier: check }]
      - name: f
        steps: [{ name: check, type: barrier, identifier: check }]
`,
  'run-test.yaml',
  { pipelineId: 'run-1' },
).plan;
const [deploy, verify] = plan.stages as [StagePlan, StagePlan];
const wf = (name: string) => plan.stages.flatMap((s) => s.workflows).find((w) => w.name === name)!;

/** A run whose first stage has started with every workflow running. */
function started(): PipelineRun {
  const run = new PipelineRun(plan, 'run-1', T0);
  run.startStage(deploy, T0 + 10);
  for (const w of deploy.workflows) run.startWorkflow(w);
  return run;
}
/** The barrier step's timeout in the plan (1 for a workflow that has none: such arrivals are refused). */
const planTimeout = (workflow: string, identifier: string): number => {
  const step = plan.stages
    .flatMap((s) => s.workflows)
    .find((w) => w.name === workflow)
    ?.steps.find((s): s is BarrierStepPlan => s.type === 'barrier' && s.identifier === identifier);
  return step?.timeoutMs ?? 1;
};
const arrival = (
  workflow: string,
  identifier: string,
  arrivedAt: number,
  timeoutMs = planTimeout(workflow, identifier),
) => ({ workflow, identifier, arrivedAt, timeoutMs });
const barrier = (run: PipelineRun, identifier: string) =>
  run.document().barriers.find((b) => b.identifier === identifier);

describe('PipelineRun', () => {
  it('starts with every workflow not started and no barrier shown', () => {
    const doc = new PipelineRun(plan, 'run-1', T0).document();
    expect(doc).toMatchObject({ pipelineId: 'run-1', name: 'run-test', status: 'running' });
    expect(doc.workflows.map((w) => w.status)).toEqual(Array(6).fill('not-started'));
    expect(doc.stages.map((s) => s.status)).toEqual(['not-started', 'not-started']);
    expect(doc.barriers).toEqual([]);
    expect(doc.endedAt).toBeUndefined();
  });

  it('shows the barriers of started stages only, and who waits at them', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20);
    const doc = run.document();
    expect(doc.barriers.map((b) => b.identifier)).toEqual(['gate', 'late']);
    expect(doc.workflows.find((w) => w.name === 'a')?.status).toBe('waiting-at-barrier');
    expect(doc.workflows.find((w) => w.name === 'b')?.status).toBe('running');
    expect(pipelineResultSchema.parse(doc)).toEqual(doc);
  });

  it('releases every waiting participant when the last one arrives', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20);
    run.arrive(arrival('b', 'gate', T0 + 30), T0 + 30);
    const last = run.arrive(arrival('c', 'gate', T0 + 40), T0 + 40);
    expect(last.changed).toBe(true);
    expect(last.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['a', 'released'],
      ['b', 'released'],
      ['c', 'released'],
    ]);
    expect(barrier(run, 'gate')?.status).toBe('crossed');
  });

  it('takes the arrival time from the child, bounded by the stage start and now', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 - 60_000), T0 + 20); // a clock far behind
    run.arrive(arrival('b', 'gate', T0 + 60_000), T0 + 30); // a clock far ahead
    expect(barrier(run, 'gate')?.arrivals).toEqual({
      a: new Date(T0 + 10).toISOString(),
      b: new Date(T0 + 30).toISOString(),
    });
  });

  it('settles at once an arrival whose deadline has already passed', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20); // a's deadline: T0 + 1020
    const late = run.arrive(arrival('b', 'gate', T0 + 1500), T0 + 1500);
    expect(barrier(run, 'gate')?.status).toBe('timed-out');
    expect(late.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['a', 'timed-out'],
      ['b', 'timed-out'],
    ]);
  });

  it('refuses an arrival at a barrier the sender does not take part in, and counts it', () => {
    const run = started();
    const decision = run.arrive(arrival('a', 'check', T0 + 20), T0 + 20);
    expect(decision).toMatchObject({
      outcomes: [],
      refused: { sender: 'a', reason: 'a is not a participant of barrier check', log: true },
    });
    expect(run.document().rejectedMessages).toEqual({ count: 1, bySender: { a: 1 } });
  });

  it('refuses messages from workflows the plan does not have, counted by claimed sender', () => {
    const run = started();
    const before = run.document();
    expect(run.arrive(arrival('ghost', 'gate', T0 + 20, 1000), T0 + 20).refused?.reason).toBe(
      'ghost is not a workflow of this pipeline',
    );
    expect(run.withdraw({ workflow: 'ghost', identifier: 'gate' }, T0 + 20).refused?.log).toBe(false);
    expect(run.abandon({ workflow: 'ghost', reason: 'forged' }, T0 + 20).refused?.log).toBe(false);
    expect(run.interventionState({ workflow: 'ghost', waiting: true }).refused?.log).toBe(false);
    const { rejectedMessages, ...after } = run.document();
    expect(after).toEqual(before);
    expect(rejectedMessages).toEqual({ count: 4, bySender: { ghost: 4 } });
  });

  it('ignores messages from not started and finished workflows, changing nothing', () => {
    const run = started();
    const before = JSON.stringify(run.document());
    expect(run.arrive(arrival('e', 'check', T0 + 20), T0 + 20)).toMatchObject({
      changed: false,
      outcomes: [],
      rejected: expect.stringContaining('e'),
    });
    expect(run.abandon({ workflow: 'e', reason: 'forged' }, T0 + 20).rejected).toContain('e');
    expect(run.interventionState({ workflow: 'e', waiting: true }).rejected).toContain('e');
    run.endWorkflow(
      wf('d'),
      { returned: { name: 'd', stage: 'deploy', status: 'succeeded', steps: [] } },
      T0 + 30,
    );
    const afterEnd = JSON.stringify(run.document());
    expect(run.arrive(arrival('d', 'late', T0 + 40), T0 + 40).rejected).toContain('d');
    expect(JSON.stringify(run.document())).toBe(afterEnd);
    expect(before).not.toBe(afterEnd);
  });

  it('counts a child that succeeded without reaching a barrier as arrived', () => {
    const run = started();
    run.arrive(arrival('c', 'late', T0 + 20), T0 + 20);
    const ended = run.endWorkflow(
      wf('d'),
      { returned: { name: 'd', stage: 'deploy', status: 'succeeded', steps: [] } },
      T0 + 30,
    );
    expect(ended.outcomes.map((o) => [o.participant, o.kind])).toEqual([['c', 'released']]);
    expect(ended.brokenBy).toBeUndefined();
  });

  it('breaks the barriers of a child that ended otherwise, and tells no outcome to it', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20);
    const ended = run.endWorkflow(
      wf('c'),
      { returned: { name: 'c', stage: 'deploy', status: 'rolled-back', steps: [] } },
      T0 + 30,
    );
    expect(ended.brokenBy).toBe('c');
    expect(ended.outcomes.map((o) => [o.participant, o.kind])).toEqual([['a', 'broken']]);
    expect(barrier(run, 'gate')).toMatchObject({ status: 'broken', reason: 'c: c ended rolled-back' });
    expect(barrier(run, 'late')).toMatchObject({ status: 'broken', reason: 'c: c ended rolled-back' });
  });

  it('reads a result it cannot parse, or a child that threw, as failed (aborted once aborted)', () => {
    const run = started();
    run.endWorkflow(wf('a'), { returned: { nonsense: true } }, T0 + 20);
    run.endWorkflow(wf('b'), { threw: true }, T0 + 20);
    expect(
      run
        .document()
        .workflows.slice(0, 2)
        .map((w) => w.status),
    ).toEqual(['failed', 'failed']);
    run.abort(T0 + 30);
    run.endWorkflow(wf('c'), { threw: true }, T0 + 40);
    expect(run.document().workflows[2]?.status).toBe('aborted');
  });

  it('abandon breaks the sender’s standing barriers with its reason, except those it crossed', () => {
    const run = started();
    run.arrive(arrival('c', 'gate', T0 + 20), T0 + 20);
    run.arrive(arrival('a', 'gate', T0 + 21), T0 + 21);
    run.arrive(arrival('b', 'gate', T0 + 22), T0 + 22); // gate crossed
    const decision = run.abandon({ workflow: 'c', reason: 'c failed at step late: boom' }, T0 + 30);
    expect(decision.brokenBy).toBe('c');
    expect(barrier(run, 'gate')?.status).toBe('crossed');
    expect(barrier(run, 'late')).toMatchObject({
      status: 'broken',
      reason: 'c: c failed at step late: boom',
    });
  });

  it('tracks who waits for an operator, and validates intervene requests', () => {
    const run = started();
    expect(() => run.validateIntervene({ workflow: 'a', action: 'retry' })).toThrow(
      'workflow a is not waiting for manual intervention (it is running)',
    );
    expect(() => run.validateIntervene({ workflow: 'zz', action: 'retry' })).toThrow(
      'no workflow named zz in pipeline run-1',
    );
    expect(() => run.validateIntervene({ workflow: 'a', action: 'explode' })).toThrow(
      /invalid intervene request/,
    );
    run.interventionState({ workflow: 'a', waiting: true });
    expect(run.document().workflows[0]?.status).toBe('waiting-for-intervention');
    expect(() => run.validateIntervene({ workflow: 'a', action: 'retry' })).not.toThrow();
    run.intervene({ workflow: 'a', action: 'retry' });
    expect(run.document().workflows[0]?.status).toBe('running');
  });

  it('validates operator barrier commands', () => {
    const run = started();
    expect(() => run.validateBarrierCommand({ stage: 'nope', identifier: 'gate' })).toThrow(
      'no stage named nope in pipeline run-1',
    );
    expect(() => run.validateBarrierCommand({ stage: 'deploy', identifier: 'nope' })).toThrow(
      'no barrier nope in stage deploy',
    );
    expect(() => run.validateBarrierCommand({ stage: 'verify', identifier: 'check' })).toThrow(
      'stage verify has not started yet',
    );
    expect(() => run.validateBarrierCommand({ stage: 'deploy' })).toThrow(/invalid barrier command/);
    expect(() => run.validateBarrierCommand({ stage: 'deploy', identifier: 'gate' })).not.toThrow();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20);
    const released = run.releaseBarrier({ stage: 'deploy', identifier: 'gate' }, T0 + 30);
    expect(released.outcomes.map((o) => [o.participant, o.kind])).toEqual([['a', 'released']]);
    expect(barrier(run, 'gate')).toMatchObject({ status: 'forced', reason: 'released by an operator' });
    expect(() => run.validateBarrierCommand({ stage: 'deploy', identifier: 'gate' })).toThrow(
      'barrier gate in stage deploy is already forced',
    );
    run.breakBarrier({ stage: 'deploy', identifier: 'late', reason: 'db down' }, T0 + 40);
    expect(barrier(run, 'late')).toMatchObject({ status: 'broken', reason: 'db down' });
  });

  it('abort breaks every standing barrier, signals nobody, and names the running children', () => {
    const run = started();
    run.arrive(arrival('a', 'gate', T0 + 20), T0 + 20);
    run.endWorkflow(
      wf('d'),
      { returned: { name: 'd', stage: 'deploy', status: 'succeeded', steps: [] } },
      T0 + 25,
    );
    const { decision, cancel } = run.abort(T0 + 30);
    expect(decision).toEqual({ changed: true, outcomes: [] });
    expect(cancel).toEqual(['a', 'b', 'c']);
    expect(barrier(run, 'gate')).toMatchObject({ status: 'broken', reason: PIPELINE_ABORTED_REASON });
    expect(run.isAborted).toBe(true);
  });

  it('ends stages and the pipeline as SPEC section 4 says', () => {
    const ok = (name: string) => ({ returned: { name, stage: 'x', status: 'succeeded', steps: [] } });
    const run = started();
    for (const name of ['a', 'b', 'c', 'd']) run.endWorkflow(wf(name), ok(name), T0 + 50);
    expect(run.endStage(deploy)).toBe(true);
    run.startStage(verify, T0 + 60);
    for (const w of verify.workflows) run.startWorkflow(w);
    run.endWorkflow(wf('e'), ok('e'), T0 + 70);
    run.endWorkflow(
      wf('f'),
      { returned: { name: 'f', stage: 'verify', status: 'aborted', steps: [] } },
      T0 + 70,
    );
    expect(run.endStage(verify)).toBe(false);
    run.finish(T0 + 80);
    const doc = run.document();
    expect(doc.status).toBe('failed');
    expect(doc.stages.map((s) => s.status)).toEqual(['succeeded', 'failed']);
    expect(doc.endedAt).toBe(new Date(T0 + 80).toISOString());
    expect(run.details()).toContain('**Pipeline failed**');

    const aborted = started();
    aborted.abort(T0 + 20);
    expect(aborted.endStage(deploy)).toBe(false);
    aborted.finish(T0 + 30);
    expect(aborted.document().status).toBe('aborted');
    expect(aborted.document().stages[0]?.status).toBe('aborted');
  });

  it('keeps a single deadline: the earliest of the waiting participants', () => {
    const run = started();
    expect(run.nextDeadline()).toBeUndefined();
    run.arrive(arrival('b', 'gate', T0 + 20, 5000), T0 + 20);
    run.arrive(arrival('a', 'gate', T0 + 30, 1000), T0 + 30);
    expect(run.nextDeadline()).toBe(T0 + 1030);
    expect(run.expire(T0 + 1029).changed).toBe(false);
    const expired = run.expire(T0 + 1030);
    expect(expired.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['b', 'timed-out'],
      ['a', 'timed-out'],
    ]);
    expect(run.nextDeadline()).toBeUndefined();
  });
});

describe('PipelineRun properties', () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'ghost'];
  const input = fc.oneof(
    fc.record({
      kind: fc.constant('arrive' as const),
      workflow: fc.constantFrom(...names),
      identifier: fc.constantFrom('gate', 'late', 'check'),
      dt: fc.integer({ min: 0, max: 400 }),
      // Mostly the plan's timeout; sometimes another, which the coordinator must refuse.
      timeoutMs: fc.option(fc.integer({ min: 1, max: 2000 }), { freq: 3 }),
    }),
    fc.record({
      kind: fc.constantFrom(
        'withdraw' as const,
        'abandon' as const,
        'end-ok' as const,
        'end-failed' as const,
      ),
      workflow: fc.constantFrom(...names),
      identifier: fc.constantFrom('gate', 'late'),
      dt: fc.integer({ min: 0, max: 400 }),
    }),
  );

  // An arrival at a barrier its stage does not have is answered every time (no child sends one);
  // the property is about the stage's real barriers.
  it('every participant gets at most one outcome per real barrier, and crossing needs everyone', () => {
    fc.assert(
      fc.property(fc.array(input, { maxLength: 40 }), (inputs) => {
        const run = started();
        const outcomes = new Map<string, number>();
        let now = T0 + 10;
        const count = (d: {
          outcomes: readonly { stage: string; participant: string; identifier: string }[];
        }) => {
          for (const o of d.outcomes) {
            if (o.stage !== 'deploy' || o.identifier === 'check') continue;
            const key = `${o.participant}@${o.identifier}`;
            outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          }
        };
        /** Who counts as arrived without arriving: withdrew, or ended successfully while running. */
        const withdrawn = new Set<string>();
        for (const i of inputs) {
          now += i.dt;
          count(run.expire(now));
          const w = plan.stages.flatMap((s) => s.workflows).find((x) => x.name === i.workflow);
          const live = run.document().workflows.find((x) => x.name === i.workflow)?.status;
          if (i.kind === 'arrive')
            count(run.arrive(arrival(i.workflow, i.identifier, now, i.timeoutMs ?? undefined), now));
          else if (i.kind === 'withdraw') {
            const d = run.withdraw({ workflow: i.workflow, identifier: i.identifier }, now);
            if (!d.rejected && !d.refused) withdrawn.add(`${i.workflow}@${i.identifier}`);
            count(d);
          } else if (i.kind === 'abandon') count(run.abandon({ workflow: i.workflow, reason: 'boom' }, now));
          else if (w && live !== 'not-started' && live !== 'succeeded' && live !== 'failed') {
            const status = i.kind === 'end-ok' ? 'succeeded' : 'failed';
            if (status === 'succeeded') for (const id of ['gate', 'late']) withdrawn.add(`${w.name}@${id}`);
            count(run.endWorkflow(w, { returned: { name: w.name, stage: w.stage, status, steps: [] } }, now));
          }
        }
        const doc = run.document();
        expect(pipelineResultSchema.parse(doc)).toEqual(doc);
        for (const [, n] of outcomes) expect(n).toBe(1);
        for (const b of doc.barriers.filter((x) => x.status === 'crossed')) {
          for (const p of b.participants)
            expect(Object.hasOwn(b.arrivals, p) || withdrawn.has(`${p}@${b.identifier}`)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  // The workflow upserts run.visibility() after each burst of changes instead of deriving it from
  // the whole document: the two must never disagree.
  it("visibility from the run's state is the document's, after every input", () => {
    const step = fc.oneof(
      input,
      fc.record({
        kind: fc.constantFrom('intervention-on' as const, 'intervention-off' as const),
        workflow: fc.constantFrom(...names),
        dt: fc.integer({ min: 0, max: 400 }),
      }),
      fc.record({
        kind: fc.constantFrom('next-stage' as const, 'abort' as const, 'finish' as const),
        dt: fc.integer({ min: 0, max: 400 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (inputs) => {
        const run = started();
        let now = T0 + 10;
        const agree = () => expect(run.visibility()).toEqual(pipelineVisibility(run.document()));
        agree();
        for (const i of inputs) {
          now += i.dt;
          run.expire(now);
          agree();
          const w = 'workflow' in i ? wf(i.workflow === 'ghost' ? 'a' : i.workflow) : undefined;
          if (i.kind === 'arrive')
            run.arrive(arrival(i.workflow, i.identifier, now, i.timeoutMs ?? undefined), now);
          else if (i.kind === 'withdraw')
            run.withdraw({ workflow: i.workflow, identifier: i.identifier }, now);
          else if (i.kind === 'abandon') run.abandon({ workflow: i.workflow, reason: 'boom' }, now);
          else if (i.kind === 'intervention-on' || i.kind === 'intervention-off')
            run.interventionState({ workflow: i.workflow, waiting: i.kind === 'intervention-on' });
          else if (i.kind === 'next-stage') {
            run.startStage(verify, now);
            for (const v of verify.workflows) run.startWorkflow(v);
          } else if (i.kind === 'abort') run.abort(now);
          else if (i.kind === 'finish') run.finish(now);
          else if (w) {
            const status = i.kind === 'end-ok' ? 'succeeded' : 'failed';
            run.endWorkflow(w, { returned: { name: w.name, stage: w.stage, status, steps: [] } }, now);
          }
          agree();
        }
      }),
      { numRuns: 400 },
    );
  });
});
