/** NextGen pipeline YAML → Convoy: every mapping rule, every reported approximation, every error. */
import { stringify } from 'yaml';
import { compilePipelineText } from '../../../src/pipeline-file/compile';
import {
  expectCleanImport,
  importFiles,
  ngBarrier,
  ngPipeline,
  ngRule,
  ngShell,
  ngStage,
  ngStep,
  workflowOf,
} from './helpers';

const P = 'p.yaml';
const importPipeline = (data: object, mappings: Record<string, string> = {}) =>
  importFiles({ [P]: data }, mappings);
/** The path of the n-th step of the stage at `stage` (a `pipeline.stages[...]` prefix). */
const stepPath = (stage: string, n: number) => `${stage}.stage.spec.execution.steps[${n}].step`;

describe('the NextGen fixtures', () => {
  it.each([
    ['parallel-barrier.yaml', { stages: 2, workflows: 3, barriers: 1 }, 1],
    ['broken-barrier.yaml', { stages: 2, workflows: 8, barriers: 1 }, 2],
    ['barrier-timeout.yaml', { stages: 1, workflows: 2, barriers: 1 }, 0],
    ['multiple-barriers.yaml', { stages: 1, workflows: 3, barriers: 2 }, 0],
    ['step-groups.yaml', { stages: 1, workflows: 2, barriers: 1 }, 2],
  ])('%s imports without errors', (fixture, summary, warnings) => {
    expectCleanImport(`nextgen/${fixture}`, 'NextGen', summary, warnings);
  });
});

describe('stages', () => {
  it('makes a parallel block one Convoy stage and each sequential stage a stage of its own', () => {
    const { pipeline, errors } = importPipeline(
      ngPipeline(
        [
          {
            parallel: [
              ngStage('payments', [ngBarrier('sync', 'go')]),
              ngStage('orders', [ngBarrier('sync', 'go')]),
            ],
          },
          ngStage('smoke', [ngShell('smoke')]),
        ],
        ['go'],
      ),
    );
    expect(errors).toEqual([]);
    expect(pipeline.name).toBe('release');
    expect(
      pipeline.stages.map((s: { name: string; workflows: { name: string }[] }) => [
        s.name,
        s.workflows.map((w) => w.name),
      ]),
    ).toEqual([
      ['payments.orders', ['payments', 'orders']],
      ['smoke', ['smoke']],
    ]);
  });

  it('names a wide parallel block after its first stage', () => {
    const names = ['alpha_service', 'bravo_service', 'charlie_service', 'delta_service'];
    const { pipeline } = importPipeline(
      ngPipeline([{ parallel: names.map((n) => ngStage(n, [ngShell('s')])) }]),
    );
    expect(pipeline.stages[0].name).toBe('alpha_service-and-3-more');
  });

  it('carries stage and pipeline variables, and translates the expressions that read them', () => {
    const { pipeline, warnings } = importPipeline(
      ngPipeline(
        [
          ngStage(
            'deploy',
            [
              ngShell(
                'run',
                'echo <+pipeline.variables.version> <+stage.variables.service> <+pipeline.variables.service>',
                {
                  spec: {
                    shell: 'Bash',
                    onDelegate: true,
                    source: { type: 'Inline', spec: { script: 'echo <+stage.variables.service>' } },
                    environmentVariables: [
                      { name: 'VERSION', type: 'String', value: 'v<+pipeline.variables.version>' },
                      { name: 'TOKEN', type: 'Secret', value: 'account.token' },
                    ],
                  },
                },
              ),
            ],
            { variables: [{ name: 'service', type: 'String', value: 'payments' }] },
          ),
        ],
        [],
        {
          variables: [
            { name: 'version', type: 'String', value: '<+input>.default(1.4.2)' },
            { name: 'service', type: 'String', value: 'all' },
            { name: 'region', type: 'String', value: '<+input>' },
            { name: 'password', type: 'Secret', value: 'account.pw' },
          ],
        },
      ),
    );
    expect(pipeline.variables).toEqual({ version: '1.4.2', service: 'all', region: '' });
    const deploy = workflowOf(pipeline, 'deploy');
    expect(deploy.variables).toEqual({ service: 'payments' });
    expect(deploy.steps[0].env).toEqual({
      VERSION: 'v${{ vars.version }}',
      HARNESS_SCRIPT: 'echo ${CONVOY_VAR_SERVICE}',
    });
    expect(warnings).toEqual([
      "warning: p.yaml: pipeline.variables[0].value: runtime input '<+input>.default(1.4.2)': imported as '1.4.2'; give another value with --var version=VALUE",
      "warning: p.yaml: pipeline.variables[2].value: runtime input '<+input>': imported as ''; give another value with --var region=VALUE",
      "warning: p.yaml: pipeline.variables[3]: secret variable 'password' is not carried over: give the secret to the worker's environment",
      "warning: p.yaml: pipeline.stages[0].stage.spec.execution.steps[0].step.spec.environmentVariables[1]: secret 'TOKEN' is not carried over: give it to the worker's environment",
    ]);
  });

  it('reads a pipeline variable a stage variable hides as an expression it cannot carry over', () => {
    const { pipeline, warnings } = importPipeline(
      ngPipeline(
        [
          ngStage('deploy', [ngShell('run', 'echo <+pipeline.variables.service>')], {
            variables: [{ name: 'service', type: 'String', value: 'x' }],
          }),
        ],
        [],
        { variables: [{ name: 'service', type: 'String', value: 'all' }] },
      ),
    );
    expect(workflowOf(pipeline, 'deploy').steps[0].env.HARNESS_SCRIPT).toBe(
      'echo <+pipeline.variables.service>',
    );
    expect(warnings).toEqual([
      expect.stringContaining('Harness expression <+pipeline.variables.service> is not carried over'),
    ]);
  });

  it('warns about what it does not carry over: conditions, unknown fields, renamed identifiers', () => {
    const { warnings, pipeline } = importPipeline(
      ngPipeline(
        [
          ngStage('_canary', [ngShell('s', 'true', { when: { stageStatus: 'All' } })], {
            when: { pipelineStatus: 'Success', condition: '<+pipeline.variables.go> == "yes"' },
            delegateSelectors: ['big'],
          }),
          ngStage('plain', [ngShell('s', 'true', { when: { stageStatus: 'Success' } })], {
            when: { pipelineStatus: 'Success' },
          }),
        ],
        [],
        { notificationRules: [{ name: 'n' }], timeout: '1h' },
      ),
    );
    expect(pipeline.stages.map((s: { name: string }) => s.name)).toEqual(['canary', 'plain']);
    expect(warnings).toEqual([
      "warning: p.yaml: pipeline.notificationRules: not carried over: Convoy has no counterpart for 'notificationRules' here",
      "warning: p.yaml: pipeline.timeout: not carried over: Convoy has no counterpart for 'timeout' here",
      "warning: p.yaml: pipeline.stages[0].stage.delegateSelectors: not carried over: Convoy has no counterpart for 'delegateSelectors' here",
      'warning: p.yaml: pipeline.stages[0].stage.when: conditional execution is not carried over: the stage runs when the stages before it succeeded',
      "warning: p.yaml: pipeline.stages[0].stage.identifier: named 'canary' in Convoy (names start with a letter or digit)",
      'warning: p.yaml: pipeline.stages[0].stage.spec.execution.steps[0].step.when: conditional execution is not carried over: the step runs when the steps before it succeeded',
    ]);
  });
});

describe('steps', () => {
  it('runs a Bash ShellScript with bash, the script unchanged, with its timeout (10 minutes when it has none)', () => {
    const { pipeline } = importPipeline(
      ngPipeline([
        ngStage('deploy', [
          ngShell('a', `echo "it's" && [[ -n x ]]`, { timeout: '1h 30m' }),
          ngShell('b', 'true', { timeout: undefined }),
        ]),
      ]),
    );
    const [a, b] = workflowOf(pipeline, 'deploy').steps;
    expect(a).toEqual({
      name: 'a',
      description: `Harness ShellScript step (p.yaml: ${stepPath('pipeline.stages[0]', 0)})`,
      type: 'shell',
      command: 'bash -c "$HARNESS_SCRIPT"',
      env: { HARNESS_SCRIPT: `echo "it's" && [[ -n x ]]` },
      timeoutMs: 5_400_000,
    });
    expect(b.timeoutMs).toBe(600_000);
  });

  it('imports Wait steps as durable waits and Barrier steps with their flowControl identifier and timeout', () => {
    const { pipeline, warnings } = importPipeline(
      ngPipeline(
        [
          ngStage('deploy', [
            ngStep('Wait', 'settle', { duration: '30s' }),
            ngBarrier('sync', '<+input>.default(go)', { timeout: '2m' }),
            ngBarrier('later', 'next', { timeout: undefined }),
          ]),
        ],
        ['go', 'next'],
      ),
    );
    expect(
      workflowOf(pipeline, 'deploy').steps.map(
        ({ description: _, ...step }: { description: string }) => step,
      ),
    ).toEqual([
      { name: 'settle', type: 'wait', durationMs: 30_000, timeoutMs: 300_000 },
      { name: 'sync', type: 'barrier', identifier: 'go', timeoutMs: 120_000 },
      { name: 'later', type: 'barrier', identifier: 'next', timeoutMs: 600_000 },
    ]);
    expect(warnings[0]).toBe(
      `warning: p.yaml: ${stepPath('pipeline.stages[0]', 1)}.spec.barrierRef: runtime input '<+input>.default(go)': imported with its default 'go'`,
    );
  });

  it('flattens sequential step groups, nested ones too, naming steps after their groups', () => {
    const groupRule = ngRule(['AllErrors'], { type: 'Ignore' });
    const { pipeline, warnings } = importPipeline(
      ngPipeline([
        ngStage(
          'api',
          [
            ngShell('first'),
            {
              stepGroup: {
                name: 'rollout',
                identifier: 'rollout',
                failureStrategies: groupRule,
                steps: [
                  ngShell('deploy', 'echo deploy', {
                    failureStrategies: ngRule(['Timeout'], { type: 'Abort' }),
                  }),
                  { stepGroup: { name: 'verify', identifier: 'verify', steps: [ngShell('health')] } },
                ],
                rollbackSteps: [ngShell('undo_rollout')],
              },
            },
            {
              stepGroup: {
                name: 'finish',
                identifier: 'finish',
                steps: [ngShell('notify')],
                rollbackSteps: [ngShell('undo_finish')],
              },
            },
          ],
          {},
          [ngShell('undo_stage')],
        ),
      ]),
    );
    const api = workflowOf(pipeline, 'api');
    expect(api.steps.map((s: { name: string }) => s.name)).toEqual([
      'first',
      'rollout.deploy',
      'rollout.verify.health',
      'finish.notify',
    ]);
    expect(api.steps[1].failureStrategies).toEqual([
      { on: ['step-timeout', 'barrier-timeout'], action: 'abort' },
      { on: ['any'], action: 'ignore' },
    ]);
    expect(api.steps[2].failureStrategies).toEqual([{ on: ['any'], action: 'ignore' }]);
    expect(api.steps[0].failureStrategies).toBeUndefined();
    expect(api.steps[2].description).toBe(
      'Harness ShellScript step (p.yaml: pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.steps[1].stepGroup.steps[0].step)',
    );
    // Harness rolls back the groups that ran, the last first, then the stage's own rollback steps.
    expect(api.rollbackSteps.map((s: { name: string }) => s.name)).toEqual([
      'finish.undo_finish',
      'rollout.undo_rollout',
      'undo_stage',
    ]);
    expect(warnings).toEqual([
      "warning: p.yaml: pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.rollbackSteps: run with the workflow's rollback (Convoy has one rollback list per workflow), also when the group had not started",
      "warning: p.yaml: pipeline.stages[0].stage.spec.execution.steps[2].stepGroup.rollbackSteps: run with the workflow's rollback (Convoy has one rollback list per workflow), also when the group had not started",
    ]);
  });

  it('makes a parallel block a parallel step: a branch per step or step group, barriers inside joining', () => {
    const { errors, warnings, pipeline } = importPipeline(
      ngPipeline(
        [
          {
            parallel: [
              ngStage('api', [
                ngShell('first'),
                {
                  parallel: [
                    {
                      stepGroup: {
                        name: 'Canary',
                        identifier: 'canary',
                        steps: [ngShell('c1'), ngBarrier('c2', 'cutover')],
                      },
                    },
                    ngBarrier('migrate', 'cutover'),
                  ],
                },
                ngShell('last'),
              ]),
              ngStage('web', [ngBarrier('web-cut', 'cutover')]),
            ],
          },
        ],
        ['cutover'],
      ),
    );
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    const api = workflowOf(pipeline, 'api');
    expect(api.steps.map((step: { name: string; type: string }) => [step.name, step.type])).toEqual([
      ['first', 'shell'],
      ['parallel', 'parallel'],
      ['last', 'shell'],
    ]);
    const parallel = api.steps[1];
    expect(parallel.description).toBe(
      'Harness parallel block step (p.yaml: pipeline.stages[0].parallel[0].stage.spec.execution.steps[1].parallel)',
    );
    expect(
      parallel.branches.map((branch: { name: string; steps: { name: string; type: string }[] }) => [
        branch.name,
        branch.steps.map((step) => `${step.name}:${step.type}`),
      ]),
    ).toEqual([
      ['canary', ['canary.c1:shell', 'canary.c2:barrier']],
      ['migrate', ['migrate:barrier']],
    ]);
    // What Convoy's validation makes of it: the branches are participants of the web's barrier.
    const { plan } = compilePipelineText(stringify(pipeline), 'imported.yaml', { pipelineId: 'p' });
    expect(plan.stages[0]!.barriers).toEqual([
      { identifier: 'cutover', participants: ['api/canary', 'api/migrate', 'web'] },
    ]);
  });

  it('reports a parallel block inside a parallel block and in rollback steps', () => {
    const { errors, result } = importPipeline(
      ngPipeline([
        ngStage(
          'api',
          [
            ngShell('first'),
            {
              parallel: [
                {
                  stepGroup: {
                    name: 'g',
                    identifier: 'g',
                    steps: [{ parallel: [ngShell('c'), ngShell('d')] }],
                  },
                },
                ngShell('e'),
              ],
            },
          ],
          {},
          [{ parallel: [ngShell('r1'), ngShell('r2')] }],
        ),
      ]),
    );
    expect(result.text).toBeUndefined();
    expect(errors).toEqual([
      'p.yaml: pipeline.stages[0].stage.spec.execution.steps[1].parallel[0].stepGroup.steps[0].parallel: a parallel block inside a parallel block is not supported: Convoy branches do not nest; make its steps branches of the outer block, or run them one after another',
      'p.yaml: pipeline.stages[0].stage.spec.execution.rollbackSteps[0].parallel: a parallel block in rollback steps is not supported: Convoy runs rollback steps one after another',
    ]);
  });

  it('lists every step Convoy has no equivalent for, with its path, and exits with no file', () => {
    const { errors, result } = importPipeline(
      ngPipeline([
        ngStage(
          'deploy',
          [
            ngStep('K8sRollingDeploy', 'rollout', { skipDryRun: false }),
            { stepGroup: { name: 'g', identifier: 'g', steps: [ngStep('HarnessApproval', 'approve')] } },
          ],
          {},
          [ngStep('K8sRollingRollback', 'rollback')],
        ),
      ]),
    );
    expect(result.text).toBeUndefined();
    expect(errors).toEqual([
      "p.yaml: pipeline.stages[0].stage.spec.execution.steps[0].step: step type 'K8sRollingDeploy' has no Convoy equivalent: map it to a shell command with --map K8sRollingDeploy=COMMAND (or in a --map-file)",
      "p.yaml: pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.steps[0].step: step type 'HarnessApproval' has no Convoy equivalent: map it to a shell command with --map HarnessApproval=COMMAND (or in a --map-file)",
      "p.yaml: pipeline.stages[0].stage.spec.execution.rollbackSteps[0].step: step type 'K8sRollingRollback' has no Convoy equivalent: map it to a shell command with --map K8sRollingRollback=COMMAND (or in a --map-file)",
    ]);
  });

  it('runs a mapped step type as its command, with the Harness step in the environment', () => {
    const { errors, pipeline } = importPipeline(
      ngPipeline([ngStage('deploy', [ngStep('K8sRollingDeploy', 'rollout', { skipDryRun: false })])]),
      { K8sRollingDeploy: './k8s-rolling.sh' },
    );
    expect(errors).toEqual([]);
    expect(workflowOf(pipeline, 'deploy').steps[0]).toEqual({
      name: 'rollout',
      description: `Harness K8sRollingDeploy step (p.yaml: ${stepPath('pipeline.stages[0]', 0)})`,
      type: 'shell',
      command: './k8s-rolling.sh',
      env: {
        HARNESS_STEP_TYPE: 'K8sRollingDeploy',
        HARNESS_STEP_ID: 'rollout',
        HARNESS_STEP_NAME: 'rollout',
        HARNESS_STEP_SPEC: '{"skipDryRun":false}',
      },
      timeoutMs: 300_000,
    });
  });

  it('refuses scripts Convoy cannot run as written', () => {
    const { errors } = importPipeline(
      ngPipeline([
        ngStage('deploy', [
          ngShell('ps', 'Write-Host hi', {
            spec: {
              shell: 'PowerShell',
              onDelegate: true,
              source: { type: 'Inline', spec: { script: 'x' } },
            },
          }),
          ngShell('stored', 'x', {
            spec: {
              shell: 'Bash',
              onDelegate: true,
              source: { type: 'Harness', spec: { file: '/scripts/x.sh' } },
            },
          }),
          ngShell('templated', 'x', { template: { templateRef: 'deploy', versionLabel: '1' } }),
        ]),
      ]),
    );
    expect(errors).toEqual([
      `p.yaml: ${stepPath('pipeline.stages[0]', 0)}.spec.shell: PowerShell scripts are not imported: Convoy runs shell steps with sh and bash`,
      `p.yaml: ${stepPath('pipeline.stages[0]', 1)}.spec.source.type: scripts from Harness are not imported: inline the script`,
      `p.yaml: ${stepPath('pipeline.stages[0]', 2)}.template: step templates are not imported: import the resolved pipeline YAML`,
    ]);
  });

  it('warns about output variables and scripts meant for a target host', () => {
    const { warnings } = importPipeline(
      ngPipeline([
        ngStage('deploy', [
          ngShell('s', 'echo x', {
            spec: {
              shell: 'Bash',
              onDelegate: false,
              executionTarget: { host: '10.0.0.1', connectorRef: 'ssh' },
              source: { type: 'Inline', spec: { script: 'echo x' } },
              outputVariables: [{ name: 'out', type: 'String', value: 'OUT' }],
            },
          }),
        ]),
      ]),
    );
    expect(warnings).toEqual([
      `warning: p.yaml: ${stepPath('pipeline.stages[0]', 0)}.spec.outputVariables: output variables are not carried over: later steps cannot read them`,
      `warning: p.yaml: ${stepPath('pipeline.stages[0]', 0)}.spec.executionTarget: runs on the Convoy worker, not on the execution target host`,
    ]);
  });
});

describe('barriers', () => {
  it('reports a barrier used by stages that run one after another, at each occurrence', () => {
    const { errors } = importPipeline(
      ngPipeline(
        [
          { parallel: [ngStage('a', [ngBarrier('sync', 'go')]), ngStage('b', [ngBarrier('sync', 'go')])] },
          ngStage('c', [ngShell('x'), ngBarrier('sync', 'go')]),
        ],
        ['go'],
      ),
    );
    const tail =
      'in a stage that does not run in parallel with this one: in Harness the stage that reaches it first waits for a stage that has not started, until the barrier times out. Use a barrier only in stages that run in parallel';
    expect(errors).toEqual([
      `p.yaml: ${stepPath('pipeline.stages[0].parallel[0]', 0)}: barrier 'go' is also used by ${stepPath('pipeline.stages[1]', 1)}, ${tail}`,
      `p.yaml: ${stepPath('pipeline.stages[0].parallel[1]', 0)}: barrier 'go' is also used by ${stepPath('pipeline.stages[1]', 1)}, ${tail}`,
      `p.yaml: ${stepPath('pipeline.stages[1]', 1)}: barrier 'go' is also used by ${stepPath('pipeline.stages[0].parallel[0]', 0)}, ${stepPath('pipeline.stages[0].parallel[1]', 0)}, ${tail}`,
    ]);
  });

  it('reports a barrier in rollback steps, with its Harness path', () => {
    const { errors } = importPipeline(
      ngPipeline(
        [
          {
            parallel: [
              ngStage('a', [ngBarrier('sync', 'go')], {}, [ngBarrier('undo_sync', 'go')]),
              ngStage('b', [ngBarrier('sync', 'go')]),
            ],
          },
        ],
        ['go'],
      ),
    );
    expect(errors).toEqual([
      "p.yaml: pipeline.stages[0].parallel[0].stage.spec.execution.rollbackSteps[0].step: barrier 'go' in rollback steps: in Harness the peers that do not roll back never reach it (a rollback barrier cycle); Convoy allows no barriers in rollback steps. Synchronise before the rollback, or drop the barrier",
    ]);
  });

  it('reports a barrier reference that names no declared barrier, or a runtime input without default', () => {
    const { errors } = importPipeline(
      ngPipeline([ngStage('a', [ngBarrier('x', 'nope'), ngBarrier('y', '<+input>')])], ['go']),
    );
    expect(errors).toEqual([
      `p.yaml: ${stepPath('pipeline.stages[0]', 0)}.spec.barrierRef: barrier 'nope' is not declared in pipeline.flowControl.barriers (Harness rejects the pipeline)`,
      `p.yaml: ${stepPath('pipeline.stages[0]', 1)}.spec.barrierRef: runtime input '<+input>' has no default; write the barrier identifier itself`,
    ]);
  });

  it("reports Convoy's own findings at their Harness path: an order deadlock, a lone participant", () => {
    const deadlock = importPipeline(
      ngPipeline(
        [
          {
            parallel: [
              ngStage('a', [ngBarrier('x', 'x'), ngBarrier('y', 'y')]),
              ngStage('b', [ngBarrier('y', 'y'), ngBarrier('x', 'x')]),
            ],
          },
        ],
        ['x', 'y'],
      ),
    );
    expect(deadlock.errors).toEqual([
      expect.stringMatching(
        /^p\.yaml: pipeline\.stages\[0\]\.parallel: barrier order deadlock.*\(Convoy: stages\[0\]\)$/,
      ),
    ]);
    const lone = importPipeline(ngPipeline([ngStage('a', [ngBarrier('x', 'x')])], ['x']));
    expect(lone.errors).toEqual([]);
    expect(lone.warnings).toEqual([
      `warning: p.yaml: ${stepPath('pipeline.stages[0]', 0)}: barrier 'x' has a single participant (a) in stage 'a'; it passes at once (Convoy: stages[0].workflows[0].steps[0].identifier)`,
    ]);
  });
});

describe('failure strategies', () => {
  const rulesOf = (action: object, errors = ['AllErrors']) => {
    const imported = importPipeline(
      ngPipeline([ngStage('a', [ngShell('s')], { failureStrategies: ngRule(errors, action) })]),
    );
    return { ...imported, rules: imported.pipeline && workflowOf(imported.pipeline, 'a').failureStrategies };
  };
  const at = 'pipeline.stages[0].stage.failureStrategies[0].onFailure';

  it.each([
    ['Abort', 'abort'],
    ['StageRollback', 'rollback'],
    ['Ignore', 'ignore'],
  ])('carries %s over as %s', (type, action) => {
    const { rules, warnings } = rulesOf({ type });
    expect(rules).toEqual([{ on: ['any'], action }]);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['MarkAsSuccess', 'ignore', "the workflow goes on, as in Harness, but the step shows 'ignored'"],
    [
      'PipelineRollback',
      'rollback',
      "Convoy runs this workflow's rollback steps; other workflows are not rolled back",
    ],
    ['StepGroupRollback', 'rollback', 'step groups are flattened: Convoy rolls back the whole workflow'],
    ['MarkAsFailure', 'abort', 'the workflow ends without rollback'],
  ])('carries %s over as %s, with a warning', (type, action, note) => {
    const { rules, warnings } = rulesOf({ type });
    expect(rules).toEqual([{ on: ['any'], action }]);
    expect(warnings).toEqual([
      `warning: p.yaml: ${at}.action.type: '${type}' is carried over as '${action}': ${note}`,
    ]);
  });

  it.each(['RetryStepGroup', 'ProceedWithDefaultValues'])('reports %s as having no counterpart', (type) => {
    expect(rulesOf({ type }).errors).toEqual([
      `p.yaml: ${at}.action.type: '${type}' as a failure strategy has no Convoy counterpart`,
    ]);
  });

  it('maps error types: AllErrors, Unknown, Timeout; drops the ones Convoy never fails with', () => {
    expect(rulesOf({ type: 'Abort' }, ['Unknown', 'Timeout']).rules).toEqual([
      { on: ['step-failed', 'barrier-broken', 'step-timeout', 'barrier-timeout'], action: 'abort' },
    ]);
    const dropped = rulesOf({ type: 'Abort' }, ['Unknown', 'Connectivity']);
    expect(dropped.rules).toEqual([{ on: ['step-failed', 'barrier-broken'], action: 'abort' }]);
    expect(dropped.warnings).toEqual([
      `warning: p.yaml: ${at}.errors: error type 'Connectivity' has no Convoy counterpart (Convoy steps never fail with it): dropped from this rule`,
    ]);
    const empty = rulesOf({ type: 'Abort' }, ['Verification']);
    expect(empty.rules).toBeUndefined();
    expect(empty.warnings[1]).toBe(
      `warning: p.yaml: ${at}: rule dropped: none of its error types has a Convoy counterpart`,
    );
    expect(rulesOf({ type: 'Abort' }, ['Everything']).errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^p\\.yaml: ${at.replace(/[.[\]]/g, '\\$&')}\\.errors: unknown error type 'Everything'; expected one of AllErrors, Unknown, Timeout,`,
        ),
      ),
    ]);
  });

  it('carries Retry over with its count, intervals and action after retries; barrier errors go straight to that action', () => {
    const { rules, warnings } = rulesOf({
      type: 'Retry',
      spec: {
        retryCount: 3,
        retryIntervals: ['1s', '10s'],
        onRetryFailure: { action: { type: 'StageRollback' } },
      },
    });
    expect(rules).toEqual([
      {
        on: ['any'],
        action: 'retry',
        retryCount: 3,
        retryIntervalsMs: [1000, 10_000],
        onRetryFailure: 'rollback',
      },
      { on: ['barrier-broken', 'barrier-timeout'], action: 'rollback' },
    ]);
    expect(warnings).toEqual([
      `warning: p.yaml: ${at}: Convoy does not retry a barrier (its outcome is final): barrier-broken and barrier-timeout go straight to 'rollback', the action after the retries`,
    ]);
  });

  it('keeps a Retry on Timeout for steps only', () => {
    const { rules, warnings } = rulesOf({ type: 'Retry', spec: { retryCount: 1, retryIntervals: ['0s'] } }, [
      'Timeout',
    ]);
    expect(rules).toEqual([{ on: ['step-timeout'], action: 'retry', retryCount: 1 }]);
    expect(warnings).toEqual([
      `warning: p.yaml: ${at}: Convoy does not retry a barrier (its outcome is final): for barrier-timeout the next matching rule applies, else the default (rollback when there are rollback steps, else abort)`,
    ]);
  });

  it.each([
    ['Abort', 'abort'],
    ['StageRollback', 'rollback'],
    ['Ignore', 'ignore'],
    ['MarkAsSuccess', 'mark-success'],
  ])('carries ManualIntervention over with its timeout and onTimeout %s', (type, onTimeout) => {
    const { rules, warnings } = rulesOf({
      type: 'ManualIntervention',
      spec: { timeout: '1h', onTimeout: { action: { type } } },
    });
    expect(rules).toEqual([{ on: ['any'], action: 'manual-intervention', timeoutMs: 3_600_000, onTimeout }]);
    expect(warnings).toEqual([]);
  });

  it('reports an unknown action, and a Retry whose action after retries waits for an operator without a timeout', () => {
    expect(rulesOf({ type: 'Explode' }).errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^p\\.yaml: ${at.replace(/[.[\]]/g, '\\$&')}\\.action\\.type: unknown action 'Explode'; expected one of Abort, StageRollback`,
        ),
      ),
    ]);
    const manual = rulesOf(
      {
        type: 'Retry',
        spec: {
          retryCount: 1,
          onRetryFailure: { action: { type: 'ManualIntervention', spec: { timeout: '1h' } } },
        },
      },
      ['Unknown'],
    );
    expect(manual.rules).toEqual([
      { on: ['step-failed'], action: 'retry', retryCount: 1, onRetryFailure: 'manual-intervention' },
      { on: ['barrier-broken'], action: 'manual-intervention' },
    ]);
    expect(manual.warnings[0]).toBe(
      `warning: p.yaml: ${at}.action.spec.onRetryFailure.action.spec: the manual intervention after retries waits for an operator without a timeout (Convoy's retry rule has none)`,
    );
  });

  it("reports what Convoy's validation rejects in a rule at the rule's Harness path", () => {
    const { errors } = rulesOf({ type: 'Retry', spec: { retryCount: 0 } }, ['Unknown']);
    expect(errors).toEqual([
      `p.yaml: ${at}: expected an integer from 1 to 1000 (Convoy: stages[0].workflows[0].failureStrategies[0].retryCount)`,
    ]);
  });
});

describe('files', () => {
  it('reports unreadable shapes at their path instead of failing', () => {
    const { errors } = importPipeline({
      pipeline: { identifier: 'p', stages: [{ stage: 'oops' }, { other: 1 }] },
    });
    expect(errors).toEqual([
      "p.yaml: pipeline.stages[0].stage: expected a mapping, got 'oops'",
      'p.yaml: pipeline.stages[1]: expected a stage or a parallel block of stages',
    ]);
  });

  it('takes one pipeline at a time, and no FirstGen workflow with a NextGen pipeline', () => {
    const pipeline = ngPipeline([ngStage('a', [ngShell('s')])]);
    expect(importFiles({ 'a.yaml': pipeline, 'b.yaml': pipeline }).errors).toEqual([
      'b.yaml: one pipeline at a time: a.yaml, b.yaml are all pipelines',
    ]);
    expect(importFiles({ 'a.yaml': pipeline, 'w.yaml': { phases: [] } }).errors).toEqual([
      'w.yaml: a FirstGen workflow cannot go with a NextGen pipeline',
    ]);
    expect(importFiles({ 'x.yaml': { name: 'x', stages: [] } }).errors).toEqual([
      'x.yaml: not a Harness pipeline: expected NextGen YAML (pipeline:) or FirstGen Setup-as-code YAML (pipelineStages: or phases:)',
    ]);
  });
});
