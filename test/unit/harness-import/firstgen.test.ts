/** FirstGen pipeline and workflow YAML → Convoy: every mapping rule, every reported approximation, every error. */
import {
  expectCleanImport,
  fgBarrier,
  fgElement,
  fgPipeline,
  fgShell,
  fgStrategy,
  fgWorkflow,
  importFiles,
  importFixture,
  workflowOf,
} from './helpers';

const step = (n: number) => `phases[0].phaseSteps[0].steps[${n}]`;

describe('the FirstGen fixtures', () => {
  it.each([
    ['parallel-barrier', { stages: 2, workflows: 3, barriers: 1 }, 0],
    ['broken-barrier', { stages: 2, workflows: 7, barriers: 1 }, 1],
    ['barrier-timeout', { stages: 1, workflows: 2, barriers: 1 }, 0],
    ['multiple-barriers', { stages: 1, workflows: 3, barriers: 2 }, 0],
    ['looped', { stages: 1, workflows: 3, barriers: 1 }, 0],
  ])('%s imports without errors', (fixture, summary, warnings) => {
    expectCleanImport(`firstgen/${fixture}`, 'FirstGen', summary, warnings);
  });

  it('looped: runs the looped workflow once per value, in parallel with its peer, reading the value as the item', () => {
    const { pipeline } = importFixture('firstgen/looped');
    expect(
      pipeline.stages[0].workflows.map((w: { name: string; forEach?: string[] }) => [w.name, w.forEach]),
    ).toEqual([
      ['Deploy-regions', ['eu', 'us']],
      ['Switch-DNS', undefined],
    ]);
    const deploy = workflowOf(pipeline, 'Deploy-regions');
    expect(deploy.variables).toBeUndefined();
    expect(deploy.steps[0].env.HARNESS_SCRIPT).toBe('echo "deploying ${CONVOY_VAR_ITEM}"');
  });
});

describe('pipeline stages', () => {
  it('joins parallel: true elements with the one before into one Convoy stage, named after stageName', () => {
    const { pipeline, errors } = importFiles({
      'release.yaml': fgPipeline([
        fgElement('Deploy payments', 'deploy'),
        fgElement('Deploy orders', 'deploy', true),
        { ...fgElement('Smoke', 'smoke'), stageName: 'STAGE 2' },
        { ...fgElement('Smoke again', 'smoke'), stageName: 'STAGE 3', parallel: true },
      ]),
      'deploy.yaml': fgWorkflow([fgShell('Deploy')]),
      'smoke.yaml': fgWorkflow([fgShell('Smoke')]),
    });
    expect(errors).toEqual([]);
    expect(pipeline.name).toBe('release');
    expect(
      pipeline.stages.map((s: { name: string; workflows: { name: string }[] }) => [
        s.name,
        s.workflows.map((w) => w.name),
      ]),
    ).toEqual([
      ['STAGE-1', ['Deploy-payments', 'Deploy-orders']],
      ['stage-2', ['Smoke', 'Smoke-again']],
    ]);
  });

  it('gives each element its workflow variables over the workflow defaults, and translates the expressions that read them', () => {
    const { pipeline, warnings } = importFiles({
      'release.yaml': fgPipeline([
        fgElement('eu', 'deploy', false, {
          workflowVariables: [
            { name: 'region', value: 'eu' },
            { entityType: 'SERVICE', name: 'Service', value: 'payments' },
          ],
        }),
      ]),
      'deploy.yaml': fgWorkflow(
        [fgShell('Deploy', 'echo ${workflow.variables.region} ${workflow.variables.version} ${infra.name}')],
        {
          userVariables: [
            { type: 'TEXT', name: 'region', value: 'us', fixed: false, mandatory: true },
            { type: 'TEXT', name: 'version', value: '1.0', fixed: false, mandatory: true },
            { type: 'ENTITY', name: 'InfraDefinition_CUSTOM', fixed: false, mandatory: true },
          ],
        },
      ),
    });
    const eu = workflowOf(pipeline, 'eu');
    expect(eu.variables).toEqual({ region: 'eu', version: '1.0', Service: 'payments' });
    expect(eu.steps[0].env.HARNESS_SCRIPT).toBe(
      'echo ${CONVOY_VAR_REGION} ${CONVOY_VAR_VERSION} ${infra.name}',
    );
    expect(warnings).toEqual([
      `warning: deploy.yaml: ${step(0)}.properties.scriptString: Harness expression \${infra.name} is not carried over (Convoy cannot evaluate it); it stays as written: replace it with \${{ vars.NAME }} or an environment variable`,
    ]);
  });

  it('leaves out what Harness skips, and warns about conditions it cannot evaluate', () => {
    const { pipeline, warnings } = importFiles({
      'release.yaml': fgPipeline([
        fgElement('a', 'w'),
        fgElement('b', 'w', true, { skipCondition: { type: 'ALWAYS_SKIP' } }),
        fgElement('c', 'w', true, { disable: true }),
        fgElement('d', 'w', true, {
          skipCondition: { type: 'CONDITIONAL_SKIP', expression: "${app.name} == 'x'" },
        }),
      ]),
      'w.yaml': fgWorkflow([fgShell('s')]),
    });
    expect(pipeline.stages[0].workflows.map((w: { name: string }) => w.name)).toEqual(['a', 'd']);
    expect(warnings).toEqual([
      'warning: release.yaml: pipelineStages[1].skipCondition: Harness always skips this stage: not imported',
      'warning: release.yaml: pipelineStages[2].disable: disabled in Harness: not imported',
      "warning: release.yaml: pipelineStages[3].skipCondition: skip condition '${app.name} == 'x'' is not carried over: the workflow always runs",
    ]);
  });

  it('loops over properties.loopedValues too, and reports a loop without a variable', () => {
    const looped = importFiles({
      'p.yaml': fgPipeline([
        {
          ...fgElement('r', 'w'),
          type: 'ENV_LOOP_STATE',
          properties: { loopedVarName: 'infra', loopedValues: ['a', 'b', 'c'] },
        },
      ]),
      'w.yaml': fgWorkflow([fgShell('s', 'echo ${workflow.variables.infra}')]),
    });
    expect(workflowOf(looped.pipeline, 'r').forEach).toEqual(['a', 'b', 'c']);
    const broken = importFiles({
      'p.yaml': fgPipeline([{ ...fgElement('r', 'w'), type: 'ENV_LOOP_STATE' }]),
      'w.yaml': fgWorkflow([fgShell('s')]),
    });
    expect(broken.errors).toEqual([
      'p.yaml: pipelineStages[0]: a looped stage needs loopedVarName: the workflow variable whose values it loops over',
    ]);
  });

  it('reports a workflow with no file, and warns about a workflow file the pipeline does not run', () => {
    const { errors, warnings } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'deploy'), fgElement('b', 'verify', true)]),
      'deploy.yaml': fgWorkflow([fgShell('s')]),
      'extra.yaml': fgWorkflow([fgShell('s')]),
    });
    expect(errors).toEqual([
      "p.yaml: pipelineStages[1].workflowName: workflow 'verify': no file verify.yaml among the files given (name the workflow files after the pipeline file)",
    ]);
    expect(warnings).toEqual([
      "warning: extra.yaml: workflow 'extra' is not run by the pipeline: not imported",
    ]);
  });

  it('makes an approval stage a workflow of one step to --map', () => {
    const files = {
      'p.yaml': fgPipeline([
        {
          type: 'APPROVAL',
          name: 'Approval 1',
          parallel: false,
          properties: { approvalStateType: 'USER_GROUP', timeoutMillis: 60000 },
          stageName: 'STAGE 2',
        },
      ]),
    };
    expect(importFiles(files).errors).toEqual([
      "p.yaml: pipelineStages[0]: step type 'APPROVAL' has no Convoy equivalent: map it to a shell command with --map APPROVAL=COMMAND (or in a --map-file)",
    ]);
    const mapped = importFiles(files, { APPROVAL: './approve.sh' });
    expect(workflowOf(mapped.pipeline, 'Approval-1').steps[0]).toMatchObject({
      name: 'Approval 1',
      command: './approve.sh',
      env: {
        HARNESS_STEP_TYPE: 'APPROVAL',
        HARNESS_STEP_NAME: 'Approval 1',
        HARNESS_STEP_SPEC: '{"approvalStateType":"USER_GROUP","timeoutMillis":60000}',
      },
    });
  });
});

describe('workflow steps', () => {
  it('takes pre-deployment, phase and post-deployment steps in order; rollback phases last one first', () => {
    const phase = (name: string, steps: object[]) => ({
      type: 'CUSTOM',
      name,
      phaseSteps: [{ type: 'X', name: 'Deploy', steps }],
    });
    const { pipeline, warnings } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'w')]),
      'w.yaml': {
        harnessApiVersion: '1.0',
        type: 'CANARY',
        preDeploymentSteps: [{ type: 'PRE_DEPLOYMENT', name: 'Pre', steps: [fgShell('pre')] }],
        phases: [
          phase('Phase 1', [fgShell('one'), fgBarrier('sync', 'b1', { timeoutMillis: 2000 })]),
          phase('Phase 2', [fgShell('two'), fgBarrier('sync', 'b2')]),
        ],
        postDeploymentSteps: [{ type: 'POST_DEPLOYMENT', name: 'Post', steps: [fgShell('post')] }],
        rollbackPhases: [
          phase('Rollback Phase 1', [fgShell('undo one')]),
          phase('Rollback Phase 2', [fgShell('undo two')]),
        ],
      },
    });
    const a = workflowOf(pipeline, 'a');
    expect(a.steps.map((s: { name: string }) => s.name)).toEqual([
      'pre',
      'one',
      'sync',
      'two',
      'sync-2',
      'post',
    ]);
    expect(a.steps[2]).toEqual({
      name: 'sync',
      description: `Harness BARRIER step (w.yaml: ${step(1)})`,
      type: 'barrier',
      identifier: 'b1',
      timeoutMs: 2000,
    });
    expect(a.steps[4].timeoutMs).toBe(600_000);
    expect(a.rollbackSteps.map((s: { name: string }) => s.name)).toEqual(['undo two', 'undo one']);
    expect(warnings).toContain(
      "warning: w.yaml: rollbackPhases: rollback runs every rollback phase's steps (the last phase first), also of phases that had not started",
    );
  });

  it('runs a BASH script with bash and its timeoutMillis', () => {
    const { pipeline } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'w')]),
      'w.yaml': fgWorkflow([fgShell('Deploy', 'echo "$HOME"', { timeoutMillis: 5000 })]),
    });
    expect(workflowOf(pipeline, 'a').steps[0]).toEqual({
      name: 'Deploy',
      description: `Harness SHELL_SCRIPT step (w.yaml: ${step(0)})`,
      type: 'shell',
      command: 'bash -c "$HARNESS_SCRIPT"',
      env: { HARNESS_SCRIPT: 'echo "$HOME"' },
      timeoutMs: 5000,
    });
  });

  it('lists unmapped steps with their paths, refuses PowerShell and parallel steps, warns about what it drops', () => {
    const { errors, warnings } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'w')]),
      'w.yaml': {
        ...fgWorkflow([
          { type: 'K8S_DEPLOYMENT_ROLLING', name: 'Rollout', properties: { timeoutMillis: 600000 } },
          fgShell('ps', 'Write-Host', { scriptType: 'POWERSHELL' }),
          fgShell('remote', 'uptime', {
            executeOnDelegate: false,
            outputVars: 'UPTIME',
            commandPath: '/opt/app',
          }),
        ]),
        rollbackPhases: [
          {
            type: 'CUSTOM',
            name: 'Rollback Phase 1',
            phaseSteps: [
              { type: 'X', name: 'Rollback', stepsInParallel: true, steps: [fgShell('a'), fgShell('b')] },
            ],
          },
        ],
      },
    });
    expect(errors).toEqual([
      `w.yaml: ${step(0)}: step type 'K8S_DEPLOYMENT_ROLLING' has no Convoy equivalent: map it to a shell command with --map K8S_DEPLOYMENT_ROLLING=COMMAND (or in a --map-file)`,
      `w.yaml: ${step(1)}.properties.scriptType: POWERSHELL scripts are not imported: Convoy runs shell steps with sh and bash`,
      'w.yaml: rollbackPhases[0].phaseSteps[0].stepsInParallel: steps in parallel are not supported yet (they need Convoy parallel step groups, which come with the barrier-topologies issue): run them one after another',
    ]);
    expect(warnings).toEqual([
      `warning: w.yaml: ${step(2)}.properties.commandPath: working directory '/opt/app' is not carried over: the script runs in the worker's`,
      `warning: w.yaml: ${step(2)}.properties.executeOnDelegate: runs on the Convoy worker, not on the target host`,
      `warning: w.yaml: ${step(2)}.properties: published output variables are not carried over: later steps cannot read them`,
    ]);
  });

  it('warns about step skip strategies it cannot evaluate', () => {
    const workflow = fgWorkflow([fgShell('s')]) as { phases: { phaseSteps: object[] }[] };
    Object.assign(workflow.phases[0]!.phaseSteps[0]!, {
      stepSkipStrategies: [{ assertionExpression: '${workflow.variables.skip}=="true"', scope: 'ALL_STEPS' }],
    });
    const { warnings } = importFiles({ 'p.yaml': fgPipeline([fgElement('a', 'w')]), 'w.yaml': workflow });
    expect(warnings).toEqual([
      `warning: w.yaml: phases[0].phaseSteps[0].stepSkipStrategies[0]: skip condition '\${workflow.variables.skip}=="true"' is not carried over: the steps always run`,
    ]);
  });
});

describe('barriers', () => {
  it('reports the same barrier in sequential pipeline stages, and a barrier in a rollback phase', () => {
    const { errors } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'first'), fgElement('b', 'second')]),
      'first.yaml': fgWorkflow([fgBarrier('sync', 'go')], {}, [fgBarrier('undo sync', 'undo')]),
      'second.yaml': fgWorkflow([fgShell('s'), fgBarrier('sync', 'go')]),
    });
    expect(errors).toEqual([
      "first.yaml: rollbackPhases[0].phaseSteps[0].steps[0]: barrier 'undo' in rollback steps: in Harness the peers that do not roll back never reach it (a rollback barrier cycle); Convoy allows no barriers in rollback steps. Synchronise before the rollback, or drop the barrier",
      `first.yaml: ${step(0)}: barrier 'go' is also used by second.yaml: ${step(1)}, in a stage that does not run in parallel with this one: in Harness the stage that reaches it first waits for a stage that has not started, until the barrier times out. Use a barrier only in stages that run in parallel`,
      `second.yaml: ${step(1)}: barrier 'go' is also used by first.yaml: ${step(0)}, in a stage that does not run in parallel with this one: in Harness the stage that reaches it first waits for a stage that has not started, until the barrier times out. Use a barrier only in stages that run in parallel`,
    ]);
  });

  it("reports Convoy's findings in the workflow file, e.g. an expression as barrier identifier", () => {
    const { errors } = importFiles({
      'p.yaml': fgPipeline([fgElement('a', 'w'), fgElement('b', 'w', true)]),
      'w.yaml': fgWorkflow([fgBarrier('sync', '${workflow.variables.x}')]),
    });
    expect(errors).toEqual([
      `w.yaml: ${step(0)}: expressions are not allowed in barrier identifiers; write a literal like services-deployed (Convoy: stages[0].workflows[0].steps[0].identifier)`,
    ]);
  });
});

describe('failure strategies', () => {
  const importStrategies = (
    strategies: object[],
    steps: object[] = [fgShell('Deploy'), fgShell('Verify')],
    phaseStrategies?: object[],
  ) => {
    const workflow = fgWorkflow(steps, { failureStrategies: strategies }) as {
      phases: { phaseSteps: object[] }[];
    };
    if (phaseStrategies)
      Object.assign(workflow.phases[0]!.phaseSteps[0]!, { failureStrategies: phaseStrategies });
    const imported = importFiles({ 'p.yaml': fgPipeline([fgElement('a', 'w')]), 'w.yaml': workflow });
    return { ...imported, workflow: imported.pipeline && workflowOf(imported.pipeline, 'a') };
  };

  it.each([
    ['ROLLBACK_WORKFLOW', 'rollback'],
    ['ABORT_WORKFLOW_EXECUTION', 'abort'],
    ['END_EXECUTION', 'abort'],
    ['IGNORE', 'ignore'],
  ])('carries %s over as %s', (code, action) => {
    const { workflow, warnings } = importStrategies([fgStrategy(code)]);
    expect(workflow.failureStrategies).toEqual([{ on: ['any'], action }]);
    expect(warnings).toEqual([]);
  });

  it('carries ROLLBACK_PHASE over as rollback, with a warning; CONTINUE_WITH_DEFAULTS has no counterpart', () => {
    expect(importStrategies([fgStrategy('ROLLBACK_PHASE')]).warnings).toEqual([
      "warning: w.yaml: failureStrategies[0].repairActionCode: 'ROLLBACK_PHASE' is carried over as 'rollback': Convoy runs the rollback steps of every rollback phase of the workflow",
    ]);
    expect(importStrategies([fgStrategy('CONTINUE_WITH_DEFAULTS')]).errors).toEqual([
      "w.yaml: failureStrategies[0].repairActionCode: 'CONTINUE_WITH_DEFAULTS' as a failure strategy has no Convoy counterpart",
    ]);
  });

  it('maps failure types: APPLICATION_ERROR is any, TIMEOUT_ERROR the timeouts; others are dropped', () => {
    const { workflow, warnings } = importStrategies([
      fgStrategy('ABORT_WORKFLOW_EXECUTION', { failureTypes: ['TIMEOUT_ERROR', 'VERIFICATION_FAILURE'] }),
      fgStrategy('ROLLBACK_WORKFLOW', { failureTypes: ['CONNECTIVITY'] }),
      fgStrategy('ROLLBACK_WORKFLOW', { failureTypes: ['APPLICATION_ERROR', 'AUTHENTICATION'] }),
    ]);
    expect(workflow.failureStrategies).toEqual([
      { on: ['step-timeout', 'barrier-timeout'], action: 'abort' },
      { on: ['any'], action: 'rollback' },
    ]);
    expect(warnings).toEqual([
      "warning: w.yaml: failureStrategies[0].failureTypes: error type 'VERIFICATION_FAILURE' has no Convoy counterpart (Convoy steps never fail with it): dropped from this rule",
      "warning: w.yaml: failureStrategies[1].failureTypes: error type 'CONNECTIVITY' has no Convoy counterpart (Convoy steps never fail with it): dropped from this rule",
      'warning: w.yaml: failureStrategies[1]: rule dropped: none of its failure types has a Convoy counterpart',
      "warning: w.yaml: failureStrategies[2].failureTypes: error type 'AUTHENTICATION' has no Convoy counterpart (Convoy steps never fail with it): dropped from this rule",
    ]);
  });

  it('carries RETRY over with its count, intervals in seconds and action after retries', () => {
    const { workflow, warnings } = importStrategies([
      fgStrategy('RETRY', {
        retryCount: 2,
        retryIntervals: [1, 5],
        repairActionCodeAfterRetry: 'ROLLBACK_WORKFLOW',
      }),
    ]);
    expect(workflow.failureStrategies).toEqual([
      {
        on: ['any'],
        action: 'retry',
        retryCount: 2,
        retryIntervalsMs: [1000, 5000],
        onRetryFailure: 'rollback',
      },
      { on: ['barrier-broken', 'barrier-timeout'], action: 'rollback' },
    ]);
    expect(warnings).toHaveLength(1);
  });

  it('carries MANUAL_INTERVENTION over with its timeout and action after timeout', () => {
    const { workflow } = importStrategies([
      fgStrategy('MANUAL_INTERVENTION', {
        manualInterventionTimeout: 60000,
        actionAfterTimeout: 'MARK_SUCCESS',
      }),
      fgStrategy('MANUAL_INTERVENTION', { failureTypes: ['TIMEOUT_ERROR'], actionAfterTimeout: 'ROLLBACK' }),
    ]);
    expect(workflow.failureStrategies).toEqual([
      { on: ['any'], action: 'manual-intervention', timeoutMs: 60000, onTimeout: 'mark-success' },
      { on: ['step-timeout', 'barrier-timeout'], action: 'manual-intervention', onTimeout: 'rollback' },
    ]);
  });

  it('puts specificSteps rules and phase step rules on the steps, before the workflow rules', () => {
    const { workflow, warnings } = importStrategies(
      [fgStrategy('IGNORE', { specificSteps: ['Verify', 'Missing'] }), fgStrategy('ROLLBACK_WORKFLOW')],
      undefined,
      [
        fgStrategy('ABORT_WORKFLOW_EXECUTION'),
        fgStrategy('RETRY', { retryCount: 1, failureTypes: ['TIMEOUT_ERROR'], specificSteps: ['Deploy'] }),
      ],
    );
    expect(workflow.failureStrategies).toEqual([{ on: ['any'], action: 'rollback' }]);
    expect(workflow.steps[0].failureStrategies).toEqual([
      { on: ['step-timeout'], action: 'retry', retryCount: 1 },
      { on: ['any'], action: 'abort' },
    ]);
    expect(workflow.steps[1].failureStrategies).toEqual([
      { on: ['any'], action: 'ignore' },
      { on: ['any'], action: 'abort' },
    ]);
    expect(warnings).toContain(
      "warning: w.yaml: failureStrategies[0]: no step named 'Missing' in this workflow: the rule applies to no step",
    );
  });
});
