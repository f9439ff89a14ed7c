/** Parallel step groups in the pipeline file: syntax, validation rules and what the plan holds. */
import fc from 'fast-check';
import { compilePipelineText } from '../../../src/pipeline-file/compile';
import { barrierTimelines } from '../../../src/pipeline-file/barrier-order';
import { findBarrierDeadlocks } from '../../../src/pipeline-file/barrier-order';
import type { WorkflowPlan } from '../../../src/model/plan';
import { cleanupTempDirs, validate } from './helpers';

afterAll(cleanupTempDirs);

/** A pipeline whose `app` workflow has `steps` (YAML, indented for the steps list) beside `web`. */
function pipeline(steps: string, web = '- { name: web-cut, type: barrier, identifier: cutover }'): string {
  return `
name: par
stages:
  - name: deploy
    workflows:
      - name: app
        steps:
${steps
  .trim()
  .split('\n')
  .map((line) => `          ${line}`)
  .join('\n')}
      - name: web
        steps:
          ${web}
`;
}

const ROLLOUT = `
- name: rollout
  type: parallel
  branches:
    - name: canary
      steps:
        - { name: canary-deploy, type: shell, command: 'true' }
        - { name: canary-cut, type: barrier, identifier: cutover }
    - name: migrate
      steps:
        - { name: migrate-cut, type: barrier, identifier: cutover }
- { name: finish, type: shell, command: 'true' }
`;

describe('a valid parallel step', () => {
  it('validates, and each branch with a barrier is a participant <workflow>/<branch>', () => {
    const outcome = validate(pipeline(ROLLOUT));
    expect(outcome.errors).toEqual([]);
    expect(outcome.code).toBe(0);
    const { plan } = compilePipelineText(pipeline(ROLLOUT), 'par.yaml', { pipelineId: 'p' });
    expect(plan.stages[0]!.barriers).toEqual([
      { identifier: 'cutover', participants: ['app/canary', 'app/migrate', 'web'] },
    ]);
    const rollout = plan.stages[0]!.workflows[0]!.steps[0]!;
    expect(rollout.type).toBe('parallel');
    if (rollout.type !== 'parallel') return;
    expect(rollout.branches.map((b) => [b.name, b.steps.map((s) => s.name)])).toEqual([
      ['canary', ['canary-deploy', 'canary-cut']],
      ['migrate', ['migrate-cut']],
    ]);
  });

  it('names forEach expansions in participants', () => {
    const text = pipeline(ROLLOUT).replace(
      '      - name: app\n',
      '      - name: app\n        forEach: [eu, us]\n',
    );
    const { plan } = compilePipelineText(text, 'par.yaml', { pipelineId: 'p' });
    expect(plan.stages[0]!.barriers[0]!.participants).toEqual([
      'app[eu]/canary',
      'app[eu]/migrate',
      'app[us]/canary',
      'app[us]/migrate',
      'web',
    ]);
  });

  it('skips the whole group with its when, and every step of a branch with its own', () => {
    const text = pipeline(
      ROLLOUT.replace('  type: parallel\n', '  type: parallel\n  when: { var: region, equals: us }\n'),
    ).replace('name: par\n', 'name: par\nvariables: { region: eu }\n');
    const { plan } = compilePipelineText(text, 'par.yaml', { pipelineId: 'p' });
    expect(plan.stages[0]!.workflows[0]!.steps[0]!.skip).toBe(true);
  });
});

describe('parallel step errors name the file and field', () => {
  it('rejects duplicate branch names', () => {
    const outcome = validate(pipeline(ROLLOUT.replace('- name: migrate', '- name: canary')));
    expect(outcome.code).toBe(2);
    expect(outcome.errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[0].branches[1].name: duplicate branch name 'canary' (also steps[0].branches[0]); branch names are unique in a workflow",
    );
  });

  it('rejects a branch name used by another parallel step of the workflow', () => {
    const second = `
- name: later
  type: parallel
  branches:
    - name: canary
      steps: [{ name: again, type: shell, command: 'true' }]
`;
    const outcome = validate(pipeline(ROLLOUT + second));
    expect(outcome.errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[2].branches[0].name: duplicate branch name 'canary' (also steps[0].branches[0]); branch names are unique in a workflow",
    );
  });

  it('rejects empty branches, no branches and a parallel step nested in a branch', () => {
    expect(
      validate(pipeline(ROLLOUT.replace(/steps:\n        - \{ name: migrate-cut.*\n/, 'steps: []\n'))).errors,
    ).toContain(
      'pipeline.yaml: stages[0].workflows[0].steps[0].branches[1].steps: expected at least one step',
    );
    expect(validate(pipeline('- { name: g, type: parallel, branches: [] }')).errors).toContain(
      'pipeline.yaml: stages[0].workflows[0].steps[0].branches: expected at least one branch',
    );
    const nested = `
- name: outer
  type: parallel
  branches:
    - name: a
      steps:
        - { name: inner, type: parallel, branches: [{ name: b, steps: [{ name: x, type: shell, command: 'true' }] }] }
`;
    expect(validate(pipeline(nested)).errors).toContain(
      'pipeline.yaml: stages[0].workflows[0].steps[0].branches[0].steps[0].type: parallel steps cannot be nested in a branch',
    );
  });

  it('rejects unknown fields of a parallel step and of a branch, and a parallel step in rollbackSteps', () => {
    const outcome = validate(
      pipeline(
        ROLLOUT.replace('  type: parallel\n', '  type: parallel\n  timeoutMs: 5\n').replace(
          '    - name: migrate\n',
          '    - name: migrate\n      when: { var: x, equals: y }\n',
        ),
      ),
    );
    expect(outcome.errors).toEqual(
      expect.arrayContaining([
        "pipeline.yaml: stages[0].workflows[0].steps[0].timeoutMs: unknown field 'timeoutMs' (not allowed here)",
        "pipeline.yaml: stages[0].workflows[0].steps[0].branches[1].when: unknown field 'when' (not allowed here)",
      ]),
    );
    const rollback = pipeline("- { name: s, type: shell, command: 'true' }").replace(
      '        steps:\n          - { name: s,',
      '        rollbackSteps: [{ name: r, type: parallel, branches: [] }]\n        steps:\n          - { name: s,',
    );
    expect(validate(rollback).errors).toContain(
      'pipeline.yaml: stages[0].workflows[0].rollbackSteps[0].type: parallel steps are not allowed in rollbackSteps',
    );
  });

  it('rejects a step name used twice across the workflow and its branches', () => {
    const outcome = validate(pipeline(ROLLOUT.replace('name: migrate-cut', 'name: canary-deploy')));
    expect(outcome.errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[0].branches[1].steps[0].name: duplicate step name 'canary-deploy' (also steps[0].branches[0].steps[0])",
    );
  });

  it('rejects a barrier twice in one branch', () => {
    const outcome = validate(
      pipeline(
        ROLLOUT.replace(
          "        - { name: canary-deploy, type: shell, command: 'true' }",
          '        - { name: canary-early, type: barrier, identifier: cutover }',
        ),
      ),
    );
    expect(outcome.errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[0].branches[0].steps[1].identifier: barrier 'cutover' appears more than once in this branch (also steps[0].branches[0].steps[0])",
    );
  });

  it('rejects a barrier shared by a workflow and its own branch, or by branches of two parallel steps', () => {
    const own = validate(pipeline(`${ROLLOUT}\n- { name: own-cut, type: barrier, identifier: cutover }`));
    expect(own.errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[2].identifier: barrier 'cutover' is also reached at steps[0].branches[0].steps[1], which runs only before or after this one in the same workflow: neither could cross (branches share a barrier only within one parallel step)",
    );
    const later = `
- name: later
  type: parallel
  branches:
    - name: verify
      steps: [{ name: verify-cut, type: barrier, identifier: cutover }]
`;
    expect(validate(pipeline(ROLLOUT + later)).errors).toContain(
      "pipeline.yaml: stages[0].workflows[0].steps[2].branches[0].steps[0].identifier: barrier 'cutover' is also reached at steps[0].branches[0].steps[1], which runs only before or after this one in the same workflow: neither could cross (branches share a barrier only within one parallel step)",
    );
  });

  it('reports a deadlock between two branches of one workflow', () => {
    const crossed = `
- name: rollout
  type: parallel
  branches:
    - name: canary
      steps:
        - { name: c1, type: barrier, identifier: x }
        - { name: c2, type: barrier, identifier: y }
    - name: migrate
      steps:
        - { name: m1, type: barrier, identifier: y }
        - { name: m2, type: barrier, identifier: x }
`;
    expect(validate(pipeline(crossed, "- { name: w, type: shell, command: 'true' }")).errors).toEqual([
      'pipeline.yaml: stages[0]: barrier order deadlock: app/canary reaches x before y, but app/migrate reaches y before x',
    ]);
  });

  it('reports a deadlock between a branch and the steps after its group', () => {
    // web waits at after before cutover; app reaches after only once its branch crossed cutover.
    const steps = `${ROLLOUT}\n- { name: after, type: barrier, identifier: after }`;
    const web =
      '[{ name: wa, type: barrier, identifier: after }, { name: wc, type: barrier, identifier: cutover }]';
    const outcome = validate(
      pipeline(steps).replace(/steps:\n {10}- \{ name: web-cut.*\n/, `steps: ${web}\n`),
    );
    expect(outcome.errors).toEqual([
      expect.stringMatching(
        /^pipeline\.yaml: stages\[0\]: barrier order deadlock: app\/(canary|migrate) reaches cutover before after, but web reaches after before cutover$/,
      ),
    ]);
  });
});

describe('barrierTimelines', () => {
  const barrier = (identifier: string) => ({
    name: `b-${identifier}`,
    type: 'barrier' as const,
    identifier,
    timeoutMs: 1000,
    skip: false,
    failureStrategies: [],
  });
  const workflow = (steps: WorkflowPlan['steps']): WorkflowPlan => ({
    name: 'w',
    stage: 's',
    variables: {},
    steps,
    rollbackSteps: [],
    failureStrategies: [],
  });

  /**
   * Runs participants' barrier sequences the way the coordinator would: a barrier crosses once
   * every sequence that has it waits at it. True when they get stuck before all are done.
   */
  function simulateDeadlock(sequences: readonly (readonly string[])[]): boolean {
    const at = sequences.map(() => 0);
    for (;;) {
      if (sequences.every((seq, i) => at[i]! >= seq.length)) return false;
      const waitingAt = new Set(sequences.flatMap((seq, i) => (at[i]! < seq.length ? [seq[at[i]!]!] : [])));
      const crossing = [...waitingAt].filter((id) =>
        sequences.every((seq, i) => !seq.includes(id) || seq[at[i]!] === id),
      );
      if (crossing.length === 0) return true;
      sequences.forEach((seq, i) => {
        if (crossing.includes(seq[at[i]!]!)) at[i]! += 1;
      });
    }
  }

  it('finds a deadlock exactly when running the branches and a peer would get stuck', () => {
    const ids = ['a', 'b', 'c', 'd'];
    fc.assert(
      fc.property(
        fc.array(fc.shuffledSubarray(ids, { minLength: 1 }), { minLength: 1, maxLength: 3 }),
        fc.shuffledSubarray(ids, { minLength: 0, maxLength: 3 }),
        (branches, peer) => {
          const wf = workflow([
            {
              name: 'g',
              type: 'parallel',
              skip: false,
              branches: branches.map((list, i) => ({ name: `br${i}`, steps: list.map(barrier) })),
            },
          ]);
          const timelines = barrierTimelines(wf);
          if (!Array.isArray(timelines)) throw new Error('too many');
          const found =
            findBarrierDeadlocks([
              ...timelines,
              { name: 'peer', barriers: peer.map((id) => ({ identifier: id, skip: false })) },
            ]).length > 0;
          expect(found).toBe(simulateDeadlock([...branches, peer]));
        },
      ),
    );
  });

  it('refuses to follow more than the bound of branch combinations', () => {
    const group = (n: number) => ({
      name: `g${n}`,
      type: 'parallel' as const,
      skip: false,
      branches: Array.from({ length: 11 }, (_, i) => ({
        name: `g${n}b${i}`,
        steps: [barrier(`x${n}-${i}`)],
      })),
    });
    expect(barrierTimelines(workflow([group(1), group(2)]))).toHaveLength(121);
    expect(barrierTimelines(workflow([group(1), group(2), group(3)]))).toEqual({
      tooMany: expect.stringContaining('more than 1000 combinations'),
    });
  });
});
