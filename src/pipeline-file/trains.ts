/**
 * Validation of release trains (issue 14), on top of the file schema (which checks each
 * `train:` field by field: a name, a non-empty `expect` of pipeline names):
 *
 * - `expect` names each pipeline once;
 * - `expect` includes the pipeline itself: a train counts only the pipelines it expects, so a
 *   pipeline missing from its own `expect` could never be counted and would wait in vain;
 * - the steps of one barrier that name a train name the same train with the same `expect` (a
 *   train on one step applies to the whole barrier of the stage);
 * - a pipeline joins a train at one barrier identifier once: two stages joining the same
 *   (train, identifier) would arrive twice at one train run.
 *
 * Pure module.
 */
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import type { PipelineFile, StepFile, TrainFile, WorkflowStepFile } from './schema';

/** The errors of every `train:` in the file. */
export function trainErrors(file: PipelineFile): ValidationIssue[] {
  const errors: ValidationIssue[] = [];
  const error = (at: readonly PathSegment[], message: string): void => {
    errors.push({ path: formatPath(at), message });
  };
  /** (stage index, identifier) → the first train given for it, and where. */
  const perBarrier = new Map<string, { train: TrainFile; at: string }>();
  /** (train, identifier) → the stage that joins it first. */
  const perTrain = new Map<string, string>();
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) =>
      barrierSteps(workflow.steps, ['stages', stageIndex, 'workflows', workflowIndex, 'steps']).forEach(
        ({ step, path }) => {
          if (step.train === undefined) return;
          const train = step.train;
          const at: PathSegment[] = [...path, 'train'];
          const seen = new Set<string>();
          train.expect.forEach((pipeline, index) => {
            if (seen.has(pipeline))
              error([...at, 'expect', index], `duplicate pipeline '${pipeline}' in expect`);
            seen.add(pipeline);
          });
          if (!seen.has(file.name)) {
            error(
              [...at, 'expect'],
              `this pipeline ('${file.name}') is not in expect: a train counts only the pipelines it expects; add it`,
            );
          }
          const barrierKey = JSON.stringify([stageIndex, step.identifier]);
          const first = perBarrier.get(barrierKey);
          if (first === undefined) {
            perBarrier.set(barrierKey, { train, at: formatPath(at) });
          } else if (!sameTrain(first.train, train)) {
            error(
              at,
              `barrier '${step.identifier}' joins train '${first.train.name}' (expect ${first.train.expect.join(', ')}) at ${first.at}; every step of a barrier names the same train`,
            );
          }
          const trainKey = JSON.stringify([train.name, step.identifier]);
          const joinedIn = perTrain.get(trainKey);
          if (joinedIn === undefined) perTrain.set(trainKey, stage.name);
          else if (joinedIn !== stage.name) {
            error(
              at,
              `train '${train.name}' is already joined at barrier '${step.identifier}' in stage '${joinedIn}'; a pipeline joins a train's barrier once`,
            );
          }
        },
      ),
    ),
  );
  return errors;
}

type BarrierStepFile = Extract<StepFile, { type: 'barrier' }>;

/** The barrier steps of a workflow's `steps`, those in parallel steps' branches included, with their paths. */
function barrierSteps(
  steps: readonly (WorkflowStepFile | StepFile)[],
  at: readonly PathSegment[],
): { step: BarrierStepFile; path: PathSegment[] }[] {
  return steps.flatMap((step, index) => {
    const path = [...at, index];
    if (step.type === 'barrier') return [{ step, path }];
    if (step.type !== 'parallel') return [];
    return step.branches.flatMap((branch, branchIndex) =>
      barrierSteps(branch.steps, [...path, 'branches', branchIndex, 'steps']),
    );
  });
}

function sameTrain(a: TrainFile, b: TrainFile): boolean {
  return (
    a.name === b.name &&
    a.expect.length === b.expect.length &&
    [...a.expect].sort().every((name, i) => name === [...b.expect].sort()[i])
  );
}
