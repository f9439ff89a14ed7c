/**
 * One test per validation rule of SPEC section 2, each asserting the exit code of
 * `convoy validate` and the path of the offending field in the message.
 */
import { type PipelineDraft, barrier, basePipeline, cleanupTempDirs, shell, validate } from './helpers';
import { SUB_SECOND_TIMER_WARNING } from '../../../src/pipeline-file/validate';

afterAll(cleanupTempDirs);

/** The error line for a path, failing with all lines shown when there is none. */
function lineFor(lines: string[], path: string): string {
  const line = lines.find((l) => l.startsWith(`pipeline.yaml: ${path}: `));
  if (!line) throw new Error(`no line for ${path} in:\n${lines.join('\n')}`);
  return line;
}

describe('the base pipeline', () => {
  it('is valid: exit 0, an OK line on stdout, nothing on stderr', () => {
    const result = validate(basePipeline());
    expect(result.err).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.out).toEqual([
      "pipeline.yaml: OK (pipeline 'checkout-release': 1 stage, 2 workflows, 1 barrier)",
    ]);
  });
});

describe('rule 1: barrier identifiers are literals', () => {
  it.each([['${{ vars.region }}-deployed'], ['deployed-${REGION}'], ['<+pipeline.name>']])(
    'rejects the expression %s with a message saying expressions are not allowed',
    (identifier) => {
      const pipeline = basePipeline();
      pipeline.stages[0].workflows[0].steps[1].identifier = identifier;
      const result = validate(pipeline);
      expect(result.code).toBe(2);
      expect(lineFor(result.errors, 'stages[0].workflows[0].steps[1].identifier')).toContain(
        'expressions are not allowed in barrier identifiers',
      );
    },
  );

  it.each([['-leading-dash'], ['has space'], ['a'.repeat(129)], ['']])(
    'rejects the malformed identifier %j',
    (identifier) => {
      const pipeline = basePipeline();
      pipeline.stages[0].workflows[1].steps[1].identifier = identifier;
      const result = validate(pipeline);
      expect(result.code).toBe(2);
      expect(lineFor(result.errors, 'stages[0].workflows[1].steps[1].identifier')).toContain(
        'must be 1 to 128',
      );
    },
  );

  it('accepts 128 characters of letters, digits, dots, dashes and underscores', () => {
    const identifier = `A1._-${'x'.repeat(123)}`;
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[1].identifier = identifier;
    pipeline.stages[0].workflows[1].steps[1].identifier = identifier;
    expect(validate(pipeline).code).toBe(0);
  });
});

describe('rule 2: a barrier identifier at most once per workflow', () => {
  it('rejects the second occurrence, naming the first', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps.push({
      name: 'again',
      type: 'barrier',
      identifier: 'services-deployed',
    });
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0].workflows[0].steps[3].identifier')).toBe(
      "pipeline.yaml: stages[0].workflows[0].steps[3].identifier: barrier 'services-deployed' appears more than once in this workflow (also steps[1])",
    );
  });
});

describe('rule 3: durations are integers from 1 to 2,592,000,000', () => {
  it.each([[0], [-5], [1.5], ['10s'], [null]])(
    'rejects timeoutMs %j with "expected a positive integer"',
    (value) => {
      const pipeline = basePipeline();
      pipeline.stages[0].workflows[0].steps[0].timeoutMs = value;
      const result = validate(pipeline);
      expect(result.code).toBe(2);
      expect(result.errors).toEqual([
        'pipeline.yaml: stages[0].workflows[0].steps[0].timeoutMs: expected a positive integer',
      ]);
    },
  );

  it('rejects more than 30 days', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[2].durationMs = 2_592_000_001;
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].steps[2].durationMs: must be at most 2592000000 (30 days)',
    ]);
  });

  it('accepts exactly 1 and exactly 30 days', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].timeoutMs = 1;
    pipeline.stages[0].workflows[0].steps[2].durationMs = 2_592_000_000;
    expect(validate(pipeline).code).toBe(0);
  });

  it('checks barrier timeouts, wait durations, rule intervals and intervention timeouts too', () => {
    const pipeline = basePipeline();
    const payments = pipeline.stages[0].workflows[0];
    payments.steps[1].timeoutMs = 0;
    delete payments.steps[2].durationMs;
    payments.failureStrategies = [
      { on: ['step-failed'], action: 'retry', retryCount: 2, retryIntervalsMs: [100, -1] },
      { on: ['step-timeout'], action: 'manual-intervention', timeoutMs: 3e9 },
    ];
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].failureStrategies[0].retryIntervalsMs[1]: expected a positive integer',
      'pipeline.yaml: stages[0].workflows[0].failureStrategies[1].timeoutMs: must be at most 2592000000 (30 days)',
      'pipeline.yaml: stages[0].workflows[0].steps[1].timeoutMs: expected a positive integer',
      'pipeline.yaml: stages[0].workflows[0].steps[2].durationMs: missing required field',
    ]);
  });
});

describe('rule 4: no barrier steps in rollbackSteps', () => {
  it('rejects a barrier rollback step', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].rollbackSteps.push(barrier('rolled-back'));
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].rollbackSteps[1].type: barrier steps are not allowed in rollbackSteps',
    ]);
  });
});

describe('rule 5: no retry on barrier-broken or barrier-timeout', () => {
  it.each([
    [
      'pipeline',
      (p: PipelineDraft) => (p.failureStrategies = [{ on: ['barrier-broken'], action: 'retry' }]),
      'failureStrategies[0].action',
    ],
    [
      'workflow',
      (p: PipelineDraft) =>
        (p.stages[0].workflows[1].failureStrategies = [
          { on: ['step-failed', 'barrier-timeout'], action: 'retry' },
        ]),
      'stages[0].workflows[1].failureStrategies[0].action',
    ],
    [
      'step',
      (p: PipelineDraft) =>
        (p.stages[0].workflows[0].steps[1].failureStrategies = [
          { on: ['barrier-timeout'], action: 'retry', retryCount: 3 },
        ]),
      'stages[0].workflows[0].steps[1].failureStrategies[0].action',
    ],
  ])('rejects it in a %s rule', (_level, change, path) => {
    const pipeline = basePipeline();
    change(pipeline);
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, path)).toContain("a barrier's outcome is final");
  });

  it('accepts retry on `any` (it never retries a barrier error, see failure-strategy tests)', () => {
    const pipeline = basePipeline();
    pipeline.failureStrategies = [{ on: ['any'], action: 'retry', retryCount: 2, retryIntervalsMs: [100] }];
    expect(validate(pipeline).code).toBe(0);
  });

  it('rejects fields that belong to another action', () => {
    const pipeline = basePipeline();
    pipeline.failureStrategies = [{ on: ['any'], action: 'abort', retryCount: 2, onTimeout: 'ignore' }];
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: failureStrategies[0].retryCount: only allowed with action 'retry'",
      "pipeline.yaml: failureStrategies[0].onTimeout: only allowed with action 'manual-intervention'",
    ]);
  });

  it('rejects unknown error types and actions', () => {
    const pipeline = basePipeline();
    pipeline.failureStrategies = [{ on: ['crash'], action: 'panic' }];
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'failureStrategies[0].on[0]')).toContain(
      'expected one of step-failed, step-timeout, barrier-broken, barrier-timeout, any',
    );
    expect(lineFor(result.errors, 'failureStrategies[0].action')).toContain("got 'panic'");
  });
});

describe('rule 6: barrier order deadlock', () => {
  function twoWorkflows(first: object[], second: object[]): PipelineDraft {
    return {
      name: 'deadlock',
      stages: [
        {
          name: 'deploy',
          workflows: [
            { name: 'payments', steps: first },
            { name: 'orders', steps: second },
          ],
        },
      ],
    };
  }

  it('rejects A: X before Y with B: Y before X, naming both workflows and barriers', () => {
    const result = validate(
      twoWorkflows(
        [barrier('services-deployed'), barrier('db-migrated')],
        [barrier('db-migrated'), barrier('services-deployed')],
      ),
    );
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0]: barrier order deadlock: payments reaches services-deployed before db-migrated, ' +
        'but orders reaches db-migrated before services-deployed',
    ]);
  });

  it('rejects a longer cycle through three workflows', () => {
    const pipeline = {
      name: 'cycle',
      stages: [
        {
          name: 'deploy',
          workflows: [
            { name: 'a', steps: [barrier('x'), barrier('y')] },
            { name: 'b', steps: [barrier('y'), barrier('z')] },
            { name: 'c', steps: [barrier('z'), barrier('x')] },
          ],
        },
      ],
    };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0]: barrier order deadlock: a reaches x before y, b reaches y before z, and c reaches z before x',
    ]);
  });

  it('names a forEach expansion and reports each stage separately', () => {
    const pipeline = {
      name: 'two-stages',
      stages: [
        {
          name: 'one',
          workflows: [
            { name: 'regions', forEach: ['eu'], steps: [barrier('x'), barrier('y')] },
            { name: 'global', steps: [barrier('y'), barrier('x')] },
          ],
        },
        {
          name: 'two',
          workflows: [
            { name: 'p', steps: [barrier('x'), barrier('y')] },
            { name: 'q', steps: [barrier('y'), barrier('x')] },
          ],
        },
      ],
    };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0]: barrier order deadlock: regions[eu] reaches x before y, but global reaches y before x',
      'pipeline.yaml: stages[1]: barrier order deadlock: p reaches x before y, but q reaches y before x',
    ]);
  });

  it('accepts the same barriers in the same order, and the crossed order across stages', () => {
    expect(
      validate(twoWorkflows([barrier('x'), barrier('y')], [barrier('x'), shell('s'), barrier('y')])).code,
    ).toBe(0);
  });

  it('evaluates `when` statically: a skipped first barrier does not make the workflow wait there', () => {
    const skipped = { when: { var: 'mode', equals: 'never' } };
    const pipeline = twoWorkflows([barrier('x', skipped), barrier('y')], [barrier('y'), barrier('x')]);
    pipeline.variables = { mode: 'normal' };
    expect(validate(pipeline).code).toBe(0);
    // The same pipeline deadlocks when --var makes the step run.
    const result = validate(pipeline, { mode: 'never' });
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0]')).toContain('barrier order deadlock');
  });

  it('still counts a skipped barrier as reached only after the barriers waited at before it', () => {
    // payments waits at z, then skips x; orders waits at x (for payments to withdraw), then z.
    const pipeline = twoWorkflows(
      [barrier('z'), barrier('x', { when: { var: 'mode', equals: 'never' } })],
      [barrier('x'), barrier('z')],
    );
    pipeline.variables = { mode: 'normal' };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0]: barrier order deadlock: payments reaches z before x, but orders reaches x before z',
    ]);
  });
});

describe('rule 7: warnings', () => {
  it('warns about a barrier with a single participant and still exits 0', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[1].identifier = 'orders-ready';
    const result = validate(pipeline);
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      "warning: pipeline.yaml: stages[0].workflows[0].steps[1].identifier: barrier 'services-deployed' has a single participant (payments) in stage 'deploy'; it passes at once",
      "warning: pipeline.yaml: stages[0].workflows[1].steps[1].identifier: barrier 'orders-ready' has a single participant (orders) in stage 'deploy'; it passes at once",
    ]);
    expect(result.out[0]).toContain('OK');
  });

  it('counts forEach expansions as separate participants', () => {
    const pipeline = {
      name: 'regions',
      stages: [
        {
          name: 'deploy',
          workflows: [{ name: 'region', forEach: ['eu', 'us'], steps: [barrier('deployed')] }],
        },
      ],
    };
    const result = validate(pipeline);
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([]);
  });

  it('warns about an identifier reused in another stage', () => {
    const pipeline = basePipeline();
    pipeline.stages.push({
      name: 'verify',
      workflows: [
        { name: 'smoke', steps: [barrier('services-deployed')] },
        { name: 'load', steps: [barrier('services-deployed')] },
      ],
    });
    const result = validate(pipeline);
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      "warning: pipeline.yaml: stages[1].workflows[0].steps[0].identifier: barrier 'services-deployed' is also used in stage 'deploy'; barriers in different stages are independent",
    ]);
  });
});

describe('rule 8: unknown fields, unknown step types, duplicate names, malformed YAML', () => {
  it('rejects an unknown field at its own path, with a hint for a typo', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].comand = 'echo';
    pipeline.stages[0].extra = true;
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[1].steps[0].comand: unknown field 'comand'; did you mean 'command'?",
      "pipeline.yaml: stages[0].extra: unknown field 'extra'",
    ]);
  });

  it('rejects an unknown step type with the list of known ones', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0] = { name: 'deploy', type: 'kubectl', manifest: 'x.yaml' };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[1].steps[0].type: unknown step type 'kubectl'; expected one of shell, http, wait, barrier, pipeline, parallel",
    ]);
  });

  it('rejects a step without a type', () => {
    const pipeline = basePipeline();
    delete pipeline.stages[0].workflows[1].steps[0].type;
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0].workflows[1].steps[0].type')).toContain('missing step type');
  });

  it('rejects wrong types with what was expected and what was found', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows = { name: 'payments' };
    pipeline.name = 42;
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: name: expected a string, got 42',
      'pipeline.yaml: stages[0].workflows: expected a list, got a mapping',
    ]);
  });

  it('rejects a missing required field', () => {
    const pipeline = basePipeline();
    delete pipeline.stages[0].workflows[1].steps[0].command;
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[1].steps[0].command: missing required field',
    ]);
  });

  it('rejects duplicate stage names', () => {
    const pipeline = basePipeline();
    pipeline.stages.push({ name: 'deploy', workflows: [{ name: 'other', steps: [shell('s')] }] });
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[1].name: duplicate stage name 'deploy' (also stages[0])",
    ]);
  });

  it('rejects duplicate workflow names across stages', () => {
    const pipeline = basePipeline();
    pipeline.stages.push({ name: 'verify', workflows: [{ name: 'orders', steps: [shell('s')] }] });
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[1].workflows[0].name: duplicate workflow name 'orders' (also stages[0].workflows[1])",
    ]);
  });

  it('rejects a hand-written name in the forEach form, so expansions cannot collide with it', () => {
    const pipeline = basePipeline();
    pipeline.stages.push({ name: 'verify', workflows: [{ name: 'payments[eu]', steps: [shell('s')] }] });
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[1].workflows[0].name')).toContain(
      'must start with a letter or digit',
    );
  });

  it('rejects duplicate forEach items and a forEach name taken by another workflow', () => {
    const pipeline = {
      name: 'regions',
      stages: [
        {
          name: 'deploy',
          workflows: [
            { name: 'region', forEach: ['eu', 'us', 'eu'], steps: [shell('s')] },
            { name: 'region', forEach: ['us'], steps: [shell('s')] },
          ],
        },
      ],
    };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[0].forEach[2]: duplicate forEach item 'eu'",
      "pipeline.yaml: stages[0].workflows[1].forEach[0]: workflow name 'region[us]' (from forEach) is already used by stages[0].workflows[0]",
    ]);
  });

  it('rejects duplicate step names across steps and rollbackSteps', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].rollbackSteps.push(shell('deploy'));
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[0].rollbackSteps[1].name: duplicate step name 'deploy' (also steps[0])",
    ]);
  });

  it('rejects malformed YAML with its line and column', () => {
    const result = validate('name: broken\nstages: [\n  { name: x\n');
    expect(result.code).toBe(2);
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors[0]).toMatch(/^pipeline\.yaml: line \d+, column \d+: invalid YAML: /);
  });

  it('rejects names that are not identifiers', () => {
    const pipeline = basePipeline();
    pipeline.name = 'checkout release';
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'name')).toContain("letters, digits, '.', '_' and '-'");
  });
});

describe('variables and expressions', () => {
  it('rejects an unknown variable, naming the field', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].command = 'echo ${{ vars.servce }}';
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[1].steps[0].command: unknown variable 'servce' in ${{ vars.servce }}; defined: version",
    ]);
  });

  it('rejects an unknown expression and an unclosed one', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].env = { A: '${{ secrets.token }}', B: '${{ vars.version' };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0].workflows[1].steps[0].env.A')).toContain(
      "unknown secret 'token' in ${{ secrets.token }}; the pipeline declares no secrets",
    );
    expect(lineFor(result.errors, 'stages[0].workflows[1].steps[0].env.B')).toContain('unclosed expression');
  });

  it('rejects an expression inside double quotes in a shell command, suggesting the env variable', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].command = 'echo "deploying ${{ vars.service }}"';
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0].workflows[0].steps[0].command')).toContain(
      'stands inside double-quoted; in a shell command each expression becomes one single-quoted word',
    );
    expect(lineFor(result.errors, 'stages[0].workflows[0].steps[0].command')).toContain(
      '"$CONVOY_VAR_SERVICE"',
    );
  });

  it('rejects `when` on an unknown variable and a `when` with both comparisons', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].when = { var: 'region', equals: 'eu' };
    pipeline.stages[0].workflows[0].steps[0].when = { var: 'version', equals: '1', notEquals: '2' };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].steps[0].when: expected exactly one of equals or notEquals',
    ]);
    delete pipeline.stages[0].workflows[0].steps[0].when;
    expect(validate(pipeline).errors).toEqual([
      "pipeline.yaml: stages[0].workflows[1].steps[0].when.var: unknown variable 'region'; defined: version",
    ]);
  });

  it('rejects an invalid --var name and accepts a new variable from --var', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].command = 'echo ${{ vars.extra }}';
    expect(validate(pipeline, { extra: 'x' }).code).toBe(0);
    const result = validate(pipeline, { extra: 'x', '1bad': 'y' });
    expect(result.code).toBe(2);
    expect(result.errors[0]).toMatch(/^pipeline\.yaml: --var 1bad: invalid variable name '1bad'/);
  });

  it('rejects environment names reserved for Convoy and variables exported under the same name', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].env = { CONVOY_VAR_VERSION: 'x' };
    pipeline.stages[0].workflows[1].variables = { 'image-tag': 'a', image_tag: 'b' };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[1].steps[0].env.CONVOY_VAR_VERSION: names starting with CONVOY_ are reserved for Convoy',
    ]);
    delete pipeline.stages[0].workflows[1].steps[0].env;
    expect(validate(pipeline).errors).toEqual([
      "pipeline.yaml: stages[0].workflows[1].variables: variables 'image-tag' and 'image_tag' would both be exported as CONVOY_VAR_IMAGE_TAG; rename one",
    ]);
  });

  it('rejects an http URL that is not http(s) after expansion', () => {
    const pipeline = basePipeline();
    pipeline.variables.host = 'file:///etc/passwd#';
    pipeline.stages[0].workflows[1].steps.push({ name: 'probe', type: 'http', url: '${{ vars.host }}' });
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(lineFor(result.errors, 'stages[0].workflows[1].steps[2].url')).toContain(
      'expected an http:// or https:// URL',
    );
  });
});

describe('all errors at once', () => {
  it('collects every problem instead of stopping at the first', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[0].timeoutMs = 0;
    pipeline.stages[0].workflows[1].steps[1].identifier = '${{ x }}';
    pipeline.stages[0].workflows[0].rollbackSteps.push(barrier('b'));
    pipeline.failureStrategies = [{ on: ['barrier-broken'], action: 'retry' }];
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toHaveLength(4);
  });

  it('collects cross-field problems together too', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].name = 'payments';
    pipeline.stages[0].workflows[0].steps[2].name = 'deploy';
    pipeline.stages[0].workflows[0].steps[0].command = 'echo ${{ vars.nope }}';
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.errors).toHaveLength(3);
  });
});

describe('precision and history warnings', () => {
  it('warns once per barrier timeout or wait under a second, naming the server setting', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[0].steps[1].timeoutMs = 999;
    pipeline.stages[0].workflows[0].steps[2].durationMs = 250;
    const result = validate(pipeline);
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      `warning: pipeline.yaml: stages[0].workflows[0].steps[1].timeoutMs: ${SUB_SECOND_TIMER_WARNING}`,
      `warning: pipeline.yaml: stages[0].workflows[0].steps[2].durationMs: ${SUB_SECOND_TIMER_WARNING}`,
    ]);
    expect(SUB_SECOND_TIMER_WARNING).toContain('history.timerProcessorMaxTimeShift');
  });

  it('warns with the figure when the pipeline workflow history may pass 10,240 events', () => {
    const pipeline = basePipeline();
    const orders = pipeline.stages[0].workflows[1];
    orders.forEach = Array.from({ length: 700 }, (_, i) => `r${i}`);
    const result = validate(pipeline);
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^warning: pipeline\.yaml: stages: the pipeline workflow's history may reach 10,5\d\d events \(701 workflows, 701 barrier arrivals\), past the 10,240 at which Temporal warns;/,
      ),
    ]);
    orders.forEach = Array.from({ length: 600 }, (_, i) => `r${i}`);
    expect(validate(pipeline).warnings).toEqual([]);
  });
});
