/**
 * The error fixtures: Harness pipelines that cannot be carried over, in both generations. Each
 * import fails with one line per problem at its Harness path, and produces no file.
 */
import { importFixture } from './helpers';

const SEQUENTIAL =
  'in a stage that does not run in parallel with this one: in Harness the stage that reaches it first waits ' +
  'for a stage that has not started, until the barrier times out. Use a barrier only in stages that run in parallel';
const ROLLBACK =
  'in rollback steps: in Harness the peers that do not roll back never reach it (a rollback barrier cycle); ' +
  'Convoy allows no barriers in rollback steps. Synchronise before the rollback, or drop the barrier';
const unmapped = (type: string) =>
  `step type '${type}' has no Convoy equivalent: map it to a shell command with --map ${type}=COMMAND (or in a --map-file)`;

function expectErrors(fixture: string, errors: string[], mappings: Record<string, string> = {}): void {
  const imported = importFixture(fixture, mappings);
  expect(imported.errors).toEqual(errors);
  expect(imported.result.text).toBeUndefined();
}

describe('NextGen', () => {
  const file = 'nextgen/errors/unmapped-steps.yaml';
  const api = 'pipeline.stages[0].parallel[0].stage.spec.execution';

  it('unmapped-steps: every unmapped step with its path', () => {
    expectErrors(file, [
      `${file}: ${api}.steps[0].step: ${unmapped('K8sRollingDeploy')}`,
      `${file}: ${api}.steps[2].stepGroup.steps[0].step: ${unmapped('HarnessApproval')}`,
      `${file}: ${api}.rollbackSteps[0].step: ${unmapped('K8sRollingRollback')}`,
      `${file}: pipeline.stages[0].parallel[1].stage.spec.execution.steps[0].step: ${unmapped('K8sRollingDeploy')}`,
    ]);
  });

  it('unmapped-steps: only what is still unmapped', () => {
    expectErrors(file, [`${file}: ${api}.steps[2].stepGroup.steps[0].step: ${unmapped('HarnessApproval')}`], {
      K8sRollingDeploy: './deploy.sh',
      K8sRollingRollback: './rollback.sh',
    });
  });

  it('unmapped-steps: imports once every type is mapped', () => {
    const imported = importFixture(file, {
      K8sRollingDeploy: './deploy.sh',
      K8sRollingRollback: './rollback.sh',
      HarnessApproval: 'true',
    });
    expect(imported.errors).toEqual([]);
    expect(imported.result.summary).toEqual({ stages: 1, workflows: 2, barriers: 1 });
  });

  it('sequential-barrier: each occurrence of a barrier in stages that run one after another', () => {
    const f = 'nextgen/errors/sequential-barrier.yaml';
    const first = 'pipeline.stages[0].stage.spec.execution.steps[1].step';
    const second = 'pipeline.stages[1].stage.spec.execution.steps[0].step';
    expectErrors(f, [
      `${f}: ${first}: barrier 'sync' is also used by ${second}, ${SEQUENTIAL}`,
      `${f}: ${second}: barrier 'sync' is also used by ${first}, ${SEQUENTIAL}`,
    ]);
  });

  it('rollback-barrier: each barrier in rollback steps', () => {
    const f = 'nextgen/errors/rollback-barrier.yaml';
    expectErrors(f, [
      `${f}: pipeline.stages[0].parallel[0].stage.spec.execution.rollbackSteps[0].step: barrier 'undone' ${ROLLBACK}`,
      `${f}: pipeline.stages[0].parallel[1].stage.spec.execution.rollbackSteps[0].step: barrier 'undone' ${ROLLBACK}`,
    ]);
  });

  it('nested-parallel: a parallel block inside a parallel block', () => {
    const f = 'nextgen/errors/nested-parallel.yaml';
    expectErrors(f, [
      `${f}: pipeline.stages[0].stage.spec.execution.steps[0].parallel[1].stepGroup.steps[0].parallel: a parallel block inside a parallel block is not supported: Convoy branches do not nest; make its steps branches of the outer block, or run them one after another`,
    ]);
  });
});

describe('FirstGen', () => {
  it('sequential-barrier: the barrier in both workflow files, and the one in a rollback phase', () => {
    const dir = 'firstgen/errors/sequential-barrier';
    expectErrors(dir, [
      `${dir}/deploy.yaml: rollbackPhases[0].phaseSteps[0].steps[0]: barrier 'undone' ${ROLLBACK}`,
      `${dir}/deploy.yaml: phases[0].phaseSteps[0].steps[1]: barrier 'sync' is also used by ${dir}/verify.yaml: phases[0].phaseSteps[0].steps[0], ${SEQUENTIAL}`,
      `${dir}/verify.yaml: phases[0].phaseSteps[0].steps[0]: barrier 'sync' is also used by ${dir}/deploy.yaml: phases[0].phaseSteps[0].steps[1], ${SEQUENTIAL}`,
    ]);
  });

  it('unmapped: the Kubernetes steps in their workflow, the approval stage in the pipeline', () => {
    const dir = 'firstgen/errors/unmapped';
    expectErrors(dir, [
      `${dir}/deploy.yaml: phases[0].phaseSteps[0].steps[0]: ${unmapped('K8S_DEPLOYMENT_ROLLING')}`,
      `${dir}/deploy.yaml: rollbackPhases[0].phaseSteps[0].steps[0]: ${unmapped('K8S_DEPLOYMENT_ROLLING_ROLLBACK')}`,
      `${dir}/release.yaml: pipelineStages[1]: ${unmapped('APPROVAL')}`,
    ]);
    const mapped = importFixture(dir, {
      K8S_DEPLOYMENT_ROLLING: './rollout.sh',
      K8S_DEPLOYMENT_ROLLING_ROLLBACK: './rollback.sh',
      APPROVAL: './approve.sh',
    });
    expect(mapped.errors).toEqual([]);
    expect(mapped.result.summary).toEqual({ stages: 2, workflows: 2, barriers: 0 });
  });
});
