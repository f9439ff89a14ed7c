/**
 * Child pipelines together with parallel branches and release trains (issue 14): the one
 * participant mapping (`a/b` is a branch of `a` or a child pipeline workflow `b` of `a`, never
 * both), where `parent.` barriers may stand, and deadlocks between branches and child pipelines.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { participantAddress, resolveParticipant } from '../../../src/model/participants';
import { validatePipelineFile } from '../../../src/pipeline-file/compile';

function files(contents: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-nested-branches-'));
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  return dir;
}

const errorsOf = (dir: string) =>
  validatePipelineFile(join(dir, 'main.yaml')).errors.map((e) => `${e.path}: ${e.message}`);

/** `api` runs a parallel step (branches `canary` and `branch`) and then ./child.yaml; `web` waits at `ready`. */
const caller = (
  branchName: string,
  canarySteps: string,
  webSteps = '[{ name: r, type: barrier, identifier: ready }]',
) => `
name: main
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - name: rollout
            type: parallel
            branches:
              - { name: canary, steps: ${canarySteps} }
              - { name: ${branchName}, steps: [{ name: x, type: shell, command: "true" }] }
          - { name: db, type: pipeline, file: ./child.yaml }
      - name: web
        steps: ${webSteps}
`;

const child = (migrateSteps: string) => `
name: child
stages:
  - name: s
    workflows:
      - name: migrate
        steps: ${migrateSteps}
`;

const JOINS_READY = '[{ name: r, type: barrier, identifier: parent.ready }]';

test('one plan with all three kinds of participant: each resolves and is addressed its own way', () => {
  // api's canary branch meets web at `early`; then api's child pipeline's migrate meets web at `ready`.
  const dir = files({
    'main.yaml': caller(
      'other',
      '[{ name: c, type: barrier, identifier: early }]',
      '[{ name: e, type: barrier, identifier: early }, { name: r, type: barrier, identifier: ready }]',
    ),
    'child.yaml': child(JOINS_READY),
  });
  const report = validatePipelineFile(join(dir, 'main.yaml'), { pipelineId: 'p-9' });
  expect(report.errors).toEqual([]);
  const plan = report.plan!;
  expect(plan.stages[0]!.barriers).toEqual([
    { identifier: 'early', participants: ['api/canary', 'web'] },
    { identifier: 'ready', participants: ['web', 'api/migrate'] },
  ]);
  expect(resolveParticipant(plan, 'web')?.kind).toBe('workflow');
  expect(resolveParticipant(plan, 'api/canary')?.kind).toBe('branch');
  expect(resolveParticipant(plan, 'api/migrate')?.kind).toBe('child-pipeline');
  expect(resolveParticipant(plan, 'web/migrate')).toBeUndefined();
  expect(resolveParticipant(plan, 'api/other')?.kind).toBe('branch');
  expect(participantAddress(plan, 'p-9', 'web')).toEqual({ workflowId: 'p-9/web' });
  expect(participantAddress(plan, 'p-9', 'api/canary')).toEqual({ workflowId: 'p-9/api', branch: 'canary' });
  expect(participantAddress(plan, 'p-9', 'api/migrate')).toEqual({
    workflowId: 'p-9/api/db',
    subParticipant: 'migrate',
  });
  expect(participantAddress(plan, 'p-9', 'api/nobody')).toBeUndefined();
});

test('a branch and a child pipeline workflow of one workflow may not share a participant name', () => {
  const dir = files({
    'main.yaml': caller('migrate', '[{ name: c, type: shell, command: "true" }]'),
    'child.yaml': child(JOINS_READY),
  });
  expect(errorsOf(dir)).toEqual([
    'stages[0].workflows[0].steps[1].file: participant api/migrate would be both a branch of api and workflow migrate of child pipeline db (./child.yaml); rename the branch or the child workflow',
  ]);
});

test("a parent. barrier stands among the child workflow's own steps, without a train", () => {
  const inBranch = files({
    'main.yaml': caller('other', '[{ name: c, type: shell, command: "true" }]'),
    'child.yaml': child(`
          - name: group
            type: parallel
            branches:
              - { name: b, steps: ${JOINS_READY} }`),
  });
  expect(errorsOf(inBranch)).toEqual([
    "stages[0].workflows[0].steps[1].file: ./child.yaml: stages[0].workflows[0].steps[0].branches[0].steps[0].identifier: barrier 'parent.ready' joins the calling pipeline's barrier 'ready' from a branch; a parent. barrier must be a step of the workflow itself",
  ]);
  const withTrain = files({
    'main.yaml': caller('other', '[{ name: c, type: shell, command: "true" }]'),
    'child.yaml': child(
      '[{ name: r, type: barrier, identifier: parent.ready, train: { name: spring, expect: [child] } }]',
    ),
  });
  expect(errorsOf(withTrain)).toEqual([
    "stages[0].workflows[0].steps[1].file: ./child.yaml: stages[0].workflows[0].steps[0].train: barrier 'parent.ready' joins the calling pipeline's barrier 'ready': it cannot name a train; put the train on the calling pipeline's barrier",
  ]);
});

test("a child pipeline's own train barrier is validated like any pipeline's", () => {
  const dir = files({
    'main.yaml': caller(
      'other',
      '[{ name: c, type: shell, command: "true" }]',
      '[{ name: x, type: shell, command: "true" }]',
    ),
    'child.yaml': child(
      '[{ name: cut, type: barrier, identifier: cutover, train: { name: spring, expect: [other] } }]',
    ),
  });
  expect(errorsOf(dir)).toEqual([
    expect.stringMatching(
      /^stages\[0\]\.workflows\[0\]\.steps\[1\]\.file: \.\/child\.yaml: .*train.*expect.*child/,
    ),
  ]);
});

test("a parent. barrier may meet a barrier that only another workflow's branch has", () => {
  const dir = files({
    'main.yaml': `
name: main
stages:
  - name: deploy
    workflows:
      - name: api
        steps: [{ name: db, type: pipeline, file: ./child.yaml }]
      - name: web
        steps:
          - name: rollout
            type: parallel
            branches:
              - { name: canary, steps: [{ name: r, type: barrier, identifier: ready }] }
`,
    'child.yaml': child(JOINS_READY),
  });
  const report = validatePipelineFile(join(dir, 'main.yaml'));
  expect(report.errors).toEqual([]);
  expect(report.plan!.stages[0]!.barriers).toEqual([
    { identifier: 'ready', participants: ['web/canary', 'api/migrate'] },
  ]);
});

test("a branch's barrier that its own workflow's child pipeline also joins can never cross", () => {
  const dir = files({
    'main.yaml': caller('other', '[{ name: c, type: barrier, identifier: ready }]'),
    'child.yaml': child(JOINS_READY),
  });
  expect(errorsOf(dir)).toEqual([
    'stages[0]: barrier order deadlock: api takes part in barrier ready itself and through its child pipeline db (./child.yaml), which runs while api cannot be at ready: the barrier can never cross',
  ]);
});

test("a branch's barrier reached before a child pipeline orders against the child's barriers", () => {
  // api: branch canary waits at `ready`, then its child pipeline joins `later`;
  // web waits at `later` before `ready`: a cycle through the branch and the nesting.
  const dir = files({
    'main.yaml': caller(
      'other',
      '[{ name: c, type: barrier, identifier: ready }]',
      '[{ name: l, type: barrier, identifier: later }, { name: r, type: barrier, identifier: ready }]',
    ),
    'child.yaml': child('[{ name: l, type: barrier, identifier: parent.later }]'),
  });
  expect(errorsOf(dir)).toEqual([
    expect.stringMatching(
      /^stages\[0\]: barrier order deadlock: .*(ready before later|later before ready).*/,
    ),
  ]);
});
