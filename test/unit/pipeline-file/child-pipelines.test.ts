/**
 * Validating child pipelines (issue 14 items 2 and 4): the child file is checked with the same
 * rules and its errors name it and its field; `parent.` targets, nesting cycles, variables passed,
 * and deadlocks across the nesting.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePipelineFile } from '../../../src/pipeline-file/compile';

function files(contents: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-nesting-'));
  for (const [name, text] of Object.entries(contents)) writeFileSync(join(dir, name), text);
  return dir;
}

const errorsOf = (dir: string, main = 'main.yaml') =>
  validatePipelineFile(join(dir, main)).errors.map((e) => `${e.path}: ${e.message}`);

const NO_BARRIER = '[{ name: x, type: shell, command: "true" }]';

/** A calling stage: `api` runs ./child.yaml; `web` has the given barrier steps. */
const caller = (apiSteps: string, webSteps: string) => `
name: main
stages:
  - name: deploy
    workflows:
      - name: api
        steps: ${apiSteps}
      - name: web
        steps: ${webSteps}
`;
const childWith = (steps: string, more = '') => `
name: child
variables: { region: us }
stages:
  - name: s
    workflows:
      - name: migrate
        steps: ${steps}
${more}`;

test('a valid nesting validates, and the child plan is embedded', () => {
  const dir = files({
    'main.yaml': caller(
      '[{ name: db, type: pipeline, file: ./child.yaml, variables: { region: eu } }]',
      '[{ name: r, type: barrier, identifier: ready }]',
    ),
    'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
  });
  const report = validatePipelineFile(join(dir, 'main.yaml'));
  expect(report.errors).toEqual([]);
  const step = report.plan!.stages[0]!.workflows[0]!.steps[0]!;
  expect(step.type === 'pipeline' && step.pipeline.stages[0]!.workflows[0]!.variables).toEqual({
    region: 'eu',
  });
});

test('errors in the child file name the child file and its field', () => {
  const dir = files({
    'main.yaml': caller(
      '[{ name: db, type: pipeline, file: ./child.yaml }]',
      '[{ name: r, type: barrier, identifier: ready }]',
    ),
    'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready, timeoutMs: -1 }]'),
  });
  expect(errorsOf(dir)).toEqual([
    'stages[0].workflows[0].steps[0].file: ./child.yaml: stages[0].workflows[0].steps[0].timeoutMs: expected a positive integer',
  ]);
  const missing = files({
    'main.yaml': caller('[{ name: db, type: pipeline, file: ./nope.yaml }]', NO_BARRIER),
  });
  expect(errorsOf(missing)).toContain('stages[0].workflows[0].steps[0].file: ./nope.yaml: file not found');
});

test('each parent. barrier must exist in the calling stage; a file run on its own may not have one', () => {
  const dir = files({
    'main.yaml': caller(
      '[{ name: db, type: pipeline, file: ./child.yaml }]',
      '[{ name: r, type: barrier, identifier: other }]',
    ),
    'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
  });
  expect(errorsOf(dir)).toEqual([
    "stages[0].workflows[0].steps[0].file: ./child.yaml: workflow migrate: barrier 'parent.ready' joins barrier 'ready' of the calling stage 'deploy', which no workflow of that stage has (its barriers: other)",
  ]);
  expect(errorsOf(dir, 'child.yaml')).toEqual([
    "stages[0].workflows[0].steps[0].identifier: barrier 'parent.ready' joins the calling pipeline's barrier 'ready': only a child pipeline (run by a step of type pipeline) can have it; run the calling pipeline instead",
  ]);
});

test('files that include each other are a cycle', () => {
  const dir = files({
    'main.yaml': caller('[{ name: db, type: pipeline, file: ./child.yaml }]', NO_BARRIER),
    'child.yaml': childWith('[{ name: again, type: pipeline, file: ./main.yaml }]'),
  });
  const [only, ...rest] = errorsOf(dir);
  expect(rest).toEqual([]);
  expect(only).toMatch(
    /^stages\[0\]\.workflows\[0\]\.steps\[0\]\.file: \.\/child\.yaml: stages\[0\]\.workflows\[0\]\.steps\[0\]\.file: child pipelines include each other in a cycle: \S*main\.yaml → \S*child\.yaml → \S*main\.yaml$/,
  );
  const self = files({
    'main.yaml': caller('[{ name: me, type: pipeline, file: ./main.yaml }]', NO_BARRIER),
  });
  expect(errorsOf(self)[0]).toMatch(/cycle: \S*main\.yaml → \S*main\.yaml$/);
});

test('variables passed must be declared by the child; secrets cannot be passed', () => {
  const dir = files({
    'main.yaml': `
name: main
secrets: { TOKEN: { env: TOKEN } }
stages:
  - name: deploy
    workflows:
      - name: api
        steps:
          - { name: db, type: pipeline, file: ./child.yaml, variables: { regoin: eu } }
          - { name: db2, type: pipeline, file: ./child.yaml, variables: { region: "\${{ secrets.TOKEN }}" } }
`,
    'child.yaml': childWith('[{ name: x, type: shell, command: "true" }]'),
  });
  expect(errorsOf(dir)).toEqual([
    "stages[0].workflows[0].steps[0].variables.regoin: ./child.yaml declares no variable 'regoin' (declared: region)",
    "stages[0].workflows[0].steps[1].variables.region: secrets cannot be passed to a child pipeline: declare the secret in the child pipeline's file",
  ]);
});

describe('deadlocks across the nesting', () => {
  it('the calling workflow reaches a barrier after its child pipeline, which a peer reaches in the other order', () => {
    const dir = files({
      'main.yaml': caller(
        '[{ name: db, type: pipeline, file: ./child.yaml }, { name: v, type: barrier, identifier: verified }]',
        '[{ name: v, type: barrier, identifier: verified }, { name: r, type: barrier, identifier: ready }]',
      ),
      'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
    });
    expect(errorsOf(dir)).toEqual([
      'stages[0]: barrier order deadlock: api reaches ready before verified, but web reaches verified before ready',
    ]);
  });

  it('a barrier the calling workflow waits at before its child pipeline, reached by a peer after one the child joins', () => {
    const dir = files({
      'main.yaml': caller(
        '[{ name: v, type: barrier, identifier: verified }, { name: db, type: pipeline, file: ./child.yaml }]',
        '[{ name: r, type: barrier, identifier: ready }, { name: v, type: barrier, identifier: verified }]',
      ),
      'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
    });
    expect(errorsOf(dir)).toEqual([
      'stages[0]: barrier order deadlock: web reaches ready before verified, but api reaches verified before ready',
    ]);
  });

  it('through the stages of the child pipeline and its own barriers', () => {
    const dir = files({
      'main.yaml': caller(
        '[{ name: db, type: pipeline, file: ./child.yaml }]',
        '[{ name: b, type: barrier, identifier: second }, { name: a, type: barrier, identifier: first }]',
      ),
      'child.yaml': `
name: child
stages:
  - name: one
    workflows:
      - name: early
        steps: [{ name: a, type: barrier, identifier: parent.first }]
  - name: two
    workflows:
      - name: late
        steps: [{ name: b, type: barrier, identifier: parent.second }]
`,
    });
    expect(errorsOf(dir)).toEqual([
      'stages[0]: barrier order deadlock: api/db (stage order) reaches first before second, but web reaches second before first',
    ]);
  });

  it('a workflow that takes part in a barrier itself and through its child pipeline waits for itself', () => {
    const after = files({
      'main.yaml': caller(
        '[{ name: db, type: pipeline, file: ./child.yaml }, { name: r, type: barrier, identifier: ready }]',
        '[{ name: r, type: barrier, identifier: ready }]',
      ),
      'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
    });
    expect(errorsOf(after)).toEqual([
      'stages[0]: barrier order deadlock: api takes part in barrier ready itself and through its child pipeline db (./child.yaml), which runs while api cannot be at ready: the barrier can never cross',
    ]);
    const before = files({
      'main.yaml': caller(
        '[{ name: r, type: barrier, identifier: ready }, { name: db, type: pipeline, file: ./child.yaml }]',
        '[{ name: r, type: barrier, identifier: ready }]',
      ),
      'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
    });
    expect(errorsOf(before)).toHaveLength(1);
    // Skipped, it waits for nothing: no deadlock.
    const skipped = files({
      'main.yaml': caller(
        '[{ name: db, type: pipeline, file: ./child.yaml }, { name: r, type: barrier, identifier: ready }]',
        '[{ name: r, type: barrier, identifier: ready }]',
      ),
      'child.yaml': childWith(
        '[{ name: r, type: barrier, identifier: parent.ready, when: { var: region, equals: eu } }]',
      ),
    });
    expect(errorsOf(skipped)).toEqual([]);
  });

  it('orders that agree are no deadlock', () => {
    const dir = files({
      'main.yaml': caller(
        '[{ name: db, type: pipeline, file: ./child.yaml }, { name: v, type: barrier, identifier: verified }]',
        '[{ name: r, type: barrier, identifier: ready }, { name: v, type: barrier, identifier: verified }]',
      ),
      'child.yaml': childWith('[{ name: r, type: barrier, identifier: parent.ready }]'),
    });
    expect(errorsOf(dir)).toEqual([]);
  });
});
