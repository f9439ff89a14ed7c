/**
 * Child pipelines (issue 14 item 2) without Temporal: participant naming and addressing, the
 * capability checks of relayed messages, the calling pipeline's and the child pipeline's
 * decisions, and the child's document in the step's record.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { childPipelineFailure } from '../../../src/model/child-pipeline';
import { checkArrival, checkParentOutcome, checkWithdrawal } from '../../../src/model/message-checks';
import {
  childPipelineId,
  nestedParticipantName,
  parentBarrierIdentifier,
  parentBarrierOf,
  participantAddress,
  resolveParticipant,
} from '../../../src/model/participants';
import { PipelineRun } from '../../../src/model/pipeline-run';
import type { PipelinePlan, PipelineStepPlan, StagePlan } from '../../../src/model/plan';
import type { StepResult } from '../../../src/model/result';
import { compilePipeline } from '../../../src/pipeline-file/compile';

const OUTER = '6c1f7a52-93d0-4e8b-a4f1-0b2d9e7c5a31';
const INNER = '0d4a8c61-2f3e-4b7a-9c15-7e6b3a2d1f08';
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);

const dir = mkdtempSync(join(tmpdir(), 'convoy-child-'));
writeFileSync(
  join(dir, 'main.yaml'),
  `
name: main
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: db, type: pipeline, file: ./db.yaml }
      - name: web
        steps: [{ name: ready, type: barrier, identifier: schema-ready, timeoutMs: 9000 }]
      - name: skipper
        variables: { mode: off }
        steps:
          - { name: maybe, type: pipeline, file: ./db.yaml, when: { var: mode, equals: on } }
`,
);
writeFileSync(
  join(dir, 'db.yaml'),
  `
name: db
stages:
  - name: first
    workflows:
      - name: backup
        steps: [{ name: snap, type: shell, command: "true" }]
  - name: second
    workflows:
      - name: migrate
        steps:
          - { name: ready, type: barrier, identifier: parent.schema-ready, timeoutMs: 7000 }
          - { name: local, type: barrier, identifier: tidy }
      - name: tidy
        steps: [{ name: local, type: barrier, identifier: tidy }]
`,
);
const plan: PipelinePlan = compilePipeline(join(dir, 'main.yaml'), { pipelineId: 'p-1' }).plan;
const [deploy] = plan.stages as [StagePlan];
const api = deploy.workflows.find((w) => w.name === 'api')!;
const dbStep = api.steps[0] as PipelineStepPlan;
const child = dbStep.pipeline;

describe('participant names and addresses', () => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);

  it('a parent barrier identifier round-trips, and own identifiers are not parent ones', () => {
    fc.assert(
      fc.property(name, (identifier) => {
        expect(parentBarrierOf(parentBarrierIdentifier(identifier))).toBe(identifier);
        expect(parentBarrierOf(identifier)).toBe(
          identifier.startsWith('parent.') ? identifier.slice('parent.'.length) : undefined,
        );
      }),
    );
  });

  it('a stage workflow is signalled itself; a child pipeline workflow through its child pipeline', () => {
    fc.assert(
      fc.property(name, (pipelineId) => {
        expect(participantAddress(plan, pipelineId, 'web')).toEqual({ workflowId: `${pipelineId}/web` });
        expect(participantAddress(plan, pipelineId, 'api/migrate')).toEqual({
          workflowId: 'p-1/api/db',
          subParticipant: 'migrate',
        });
      }),
    );
    expect(child.pipelineId).toBe(childPipelineId('p-1', 'api', 'db'));
    expect(resolveParticipant(plan, nestedParticipantName('api', 'migrate'))?.kind).toBe('child-pipeline');
    // Only child workflows that join a parent barrier are participants.
    expect(resolveParticipant(plan, 'api/backup')).toBeUndefined();
    expect(resolveParticipant(plan, 'api/nobody')).toBeUndefined();
    expect(resolveParticipant(plan, 'nobody/migrate')).toBeUndefined();
  });

  it('the compiled plan lists the child pipeline workflow as a participant of the calling barrier', () => {
    expect(deploy.barriers).toEqual([
      { identifier: 'schema-ready', participants: ['web', 'api/migrate', 'skipper/migrate'] },
    ]);
    // The child pipeline's own stage has only its own barriers.
    expect(child.stages[1]!.barriers).toEqual([{ identifier: 'tidy', participants: ['migrate', 'tidy'] }]);
  });
});

describe('messages relayed for a child pipeline workflow', () => {
  const arrival = { workflow: 'api/migrate', identifier: 'schema-ready', timeoutMs: 7000, arrivedAt: T0 };

  it('the calling pipeline believes a relayed arrival with its capability and the plan timeout only', () => {
    expect(checkArrival(plan, OUTER, { ...arrival, capability: OUTER })).toEqual({
      ok: true,
      value: { workflow: api, participant: 'api/migrate', timeoutMs: 7000 },
    });
    const reason = (overrides: object) => {
      const checked = checkArrival(plan, OUTER, { ...arrival, capability: OUTER, ...overrides });
      return checked.ok ? 'accepted' : checked.reason;
    };
    expect(reason({ capability: INNER })).toBe("its capability is not the pipeline's");
    expect(reason({ timeoutMs: 9000 })).toMatch(/disagrees with the plan's 7000/);
    expect(reason({ workflow: 'api/backup' })).toBe('api/backup is not a workflow of this pipeline');
    expect(reason({ workflow: 'skipper/migrate' })).toBe(
      'skipper/migrate skips barrier schema-ready in the plan',
    );
    expect(
      checkWithdrawal(plan, OUTER, {
        workflow: 'skipper/migrate',
        identifier: 'schema-ready',
        capability: OUTER,
      }).ok,
    ).toBe(true);
  });

  it("the child pipeline relays only outcomes with the calling pipeline's capability, for its own participants", () => {
    const outcome = {
      identifier: 'schema-ready',
      participant: 'migrate',
      kind: 'released' as const,
      message: 'ok',
    };
    expect(checkParentOutcome(child, OUTER, { ...outcome, capability: OUTER }).ok).toBe(true);
    const reason = (overrides: object) => {
      const checked = checkParentOutcome(child, OUTER, { ...outcome, capability: OUTER, ...overrides });
      return checked.ok ? 'accepted' : checked.reason;
    };
    expect(reason({ capability: INNER })).toBe("its capability is not the pipeline's");
    expect(reason({ capability: undefined })).toBe('it carries no capability');
    expect(reason({ participant: undefined })).toBe('it names no participant of this pipeline');
    expect(reason({ participant: 'backup' })).toBe(
      "backup does not take part in the calling pipeline's barrier schema-ready",
    );
    expect(reason({ participant: 'mallory' })).toBe('mallory is not a workflow of this pipeline');
  });
});

describe('the child pipeline workflow relays', () => {
  function childRun(): PipelineRun {
    const run = new PipelineRun(child, child.pipelineId, T0, INNER, undefined, {
      caller: 'api',
      capability: OUTER,
    });
    return run;
  }

  it("relays its workflow's arrival to the calling pipeline, and the outcome back as parent.<id>", () => {
    const run = childRun();
    const second = child.stages[1]!;
    run.startStage(second, T0);
    for (const wf of second.workflows) run.startWorkflow(wf);
    const arrived = run.arrive(
      {
        workflow: 'migrate',
        identifier: 'parent.schema-ready',
        timeoutMs: 7000,
        arrivedAt: T0 + 5,
        capability: INNER,
      },
      T0 + 10,
    );
    expect(arrived.outcomes).toEqual([]);
    expect(arrived.toParent).toEqual([
      {
        kind: 'arrive',
        message: {
          workflow: 'api/migrate',
          identifier: 'schema-ready',
          timeoutMs: 7000,
          arrivedAt: T0 + 5,
          capability: OUTER,
        },
      },
    ]);
    expect(run.document().workflows.find((w) => w.name === 'migrate')?.status).toBe('waiting-at-barrier');

    // A forged outcome is counted, not relayed.
    const forged = run.parentOutcome({
      identifier: 'schema-ready',
      participant: 'migrate',
      kind: 'released',
      message: 'forged',
      capability: INNER,
    });
    expect(forged.outcomes).toEqual([]);
    expect(run.document().rejectedMessages).toEqual({ count: 1, bySender: { migrate: 1 } });

    const released = run.parentOutcome({
      identifier: 'schema-ready',
      participant: 'migrate',
      kind: 'released',
      message: 'crossed',
      capability: OUTER,
    });
    expect(released.outcomes).toEqual([
      {
        stage: 'second',
        participant: 'migrate',
        identifier: 'parent.schema-ready',
        kind: 'released',
        message: 'crossed',
      },
    ]);
    expect(run.document().workflows.find((w) => w.name === 'migrate')?.status).toBe('running');
  });

  it('a workflow that gives up, or never starts, breaks the calling barrier', () => {
    const failed = childRun();
    const second = child.stages[1]!;
    failed.startStage(second, T0);
    for (const wf of second.workflows) failed.startWorkflow(wf);
    const notice = failed.abandon(
      { workflow: 'migrate', reason: 'migrate failed', capability: INNER },
      T0 + 1,
    );
    expect(notice.toParent).toEqual([
      { kind: 'abandon', message: { workflow: 'api/migrate', reason: 'migrate failed', capability: OUTER } },
    ]);

    const neverRan = childRun();
    neverRan.startStage(child.stages[0]!, T0);
    neverRan.startWorkflow(child.stages[0]!.workflows[0]!);
    neverRan.endWorkflow(child.stages[0]!.workflows[0]!, { threw: true }, T0 + 1);
    neverRan.endStage(child.stages[0]!);
    expect(neverRan.finish(T0 + 2).toParent).toEqual([
      {
        kind: 'abandon',
        message: {
          workflow: 'api/migrate',
          reason: 'child pipeline db ended failed before migrate started',
          capability: OUTER,
        },
      },
    ]);
  });

  it('a pipeline that is not a child pipeline refuses outcomes and relays nothing', () => {
    const run = new PipelineRun(plan, 'p-1', T0, OUTER);
    expect(
      run.parentOutcome({
        identifier: 'schema-ready',
        participant: 'web',
        kind: 'released',
        message: 'x',
        capability: OUTER,
      }).refused?.reason,
    ).toBe('this pipeline is not a child pipeline');
    expect(run.finish(T0).toParent).toBeUndefined();
  });
});

describe('the calling pipeline', () => {
  function callingRun(): PipelineRun {
    const run = new PipelineRun(plan, 'p-1', T0, OUTER);
    run.startStage(deploy, T0);
    for (const wf of deploy.workflows) run.startWorkflow(wf);
    return run;
  }

  it('crosses once the stage workflow and the child pipeline workflow arrived, releasing both', () => {
    const run = callingRun();
    run.withdraw({ workflow: 'skipper/migrate', identifier: 'schema-ready', capability: OUTER }, T0 + 1);
    run.arrive(
      { workflow: 'web', identifier: 'schema-ready', timeoutMs: 9000, arrivedAt: T0 + 2, capability: OUTER },
      T0 + 2,
    );
    const crossed = run.arrive(
      {
        workflow: 'api/migrate',
        identifier: 'schema-ready',
        timeoutMs: 7000,
        arrivedAt: T0 + 3,
        capability: OUTER,
      },
      T0 + 3,
    );
    expect(crossed.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['web', 'released'],
      ['api/migrate', 'released'],
    ]);
    // A retried child pipeline arrives again: it gets the outcome again; a stage workflow does not.
    const again = run.arrive(
      {
        workflow: 'api/migrate',
        identifier: 'schema-ready',
        timeoutMs: 7000,
        arrivedAt: T0 + 9,
        capability: OUTER,
      },
      T0 + 9,
    );
    expect(again.outcomes).toEqual([
      expect.objectContaining({ participant: 'api/migrate', kind: 'released' }),
    ]);
    const duplicate = run.arrive(
      { workflow: 'web', identifier: 'schema-ready', timeoutMs: 9000, arrivedAt: T0 + 9, capability: OUTER },
      T0 + 9,
    );
    expect(duplicate.outcomes).toEqual([]);
  });

  it('the calling workflow ending without success breaks what its child pipeline workflows had not reached', () => {
    const run = callingRun();
    run.arrive(
      { workflow: 'web', identifier: 'schema-ready', timeoutMs: 9000, arrivedAt: T0 + 2, capability: OUTER },
      T0 + 2,
    );
    const ended = run.endWorkflow(
      api,
      { returned: { name: 'api', stage: 'deploy', status: 'aborted', steps: [] } },
      T0 + 5,
    );
    expect(ended.outcomes).toEqual([
      expect.objectContaining({ participant: 'web', kind: 'broken', errorType: 'barrier-broken' }),
    ]);
    expect(run.document().barriers[0]).toMatchObject({
      status: 'broken',
      reason: expect.stringMatching(/api\/migrate/),
    });
    // Messages for a child pipeline workflow whose caller ended are ignored.
    expect(
      run.arrive(
        {
          workflow: 'api/migrate',
          identifier: 'schema-ready',
          timeoutMs: 7000,
          arrivedAt: T0 + 6,
          capability: OUTER,
        },
        T0 + 6,
      ).rejected,
    ).toMatch(/unknown or finished workflow: api\/migrate/);
  });
});

describe("the child pipeline's document in the step's record", () => {
  it('is kept, and the step fails unless the child pipeline succeeded, naming the unsuccessful workflows', () => {
    const doc = {
      pipelineId: child.pipelineId,
      name: 'db',
      status: 'failed',
      startedAt: new Date(T0).toISOString(),
      stages: [],
      workflows: [
        { name: 'backup', stage: 'first', status: 'rolled-back', steps: [] },
        { name: 'migrate', stage: 'second', status: 'not-started', steps: [] },
      ],
      barriers: [],
    };
    const record: StepResult = { name: 'db', type: 'pipeline', status: 'running', attempts: 1 };
    expect(childPipelineFailure(dbStep, doc, record)).toBe(
      'child pipeline db (./db.yaml) ended failed: backup rolled-back',
    );
    expect(record.pipeline?.name).toBe('db');
    expect(childPipelineFailure(dbStep, { ...doc, status: 'succeeded' }, record)).toBeUndefined();
    expect(childPipelineFailure(dbStep, { nonsense: true }, record)).toMatch(
      /without a readable result document/,
    );
  });
});
