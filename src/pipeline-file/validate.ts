/**
 * The rules of SPEC section 2 that look across fields, on top of the file schema (schema.ts):
 * unique names, barrier identifiers once per workflow, variables and expressions (via expand.ts),
 * barrier-order deadlocks, and the two warnings. Every rule runs and every problem is collected.
 *
 * Rules judged field by field (identifier syntax and "no expressions in identifiers", duration
 * ranges, no barrier in rollbackSteps, no retry on barrier errors, unknown fields and step types)
 * are in the schema, so they are reported even when the file is too broken for the rules here.
 *
 * Pure module.
 */
import { HISTORY_LIMIT_EVENTS, HISTORY_WARN_EVENTS, predictParentHistoryEvents } from './history-budget';
import { joinParticipant } from '../model/participants';
import type { StageBarrierPlan, StagePlan, TrainPlan, WorkflowPlan } from '../model/plan';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import type { PipelineFile, StepFile } from './schema';
import {
  type ExpandedWorkflow,
  checkVariableName,
  envNameForVariable,
  expandForEach,
  expandWorkflow,
} from './expand';
import {
  type BarrierOrderWorkflow,
  type BarrierVisit,
  describeDeadlock,
  findBarrierDeadlocks,
} from './barrier-order';
import { declaredSecrets, misplacedSecretErrors, unusedSecretWarnings } from './secrets';
import { trainErrors } from './trains';

/** Options of {@link validatePipeline}. */
export interface ValidatePipelineOptions {
  /** `--var` overrides. */
  vars?: Readonly<Record<string, string>>;
  /** Used by `${{ pipeline.id }}`; validation alone can pass any placeholder. */
  pipelineId: string;
}

/** Errors, warnings and, when there are no errors, the expanded stages of the plan. */
export interface PipelineValidation {
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  stages: StagePlan[];
}

/**
 * Checks a schema-valid pipeline file against the cross-field rules and expands it into plan
 * stages. Never throws for anything a file can hold.
 */
export function validatePipeline(file: PipelineFile, options: ValidatePipelineOptions): PipelineValidation {
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const error = (at: readonly PathSegment[], message: string): void => {
    errors.push({ path: formatPath(at), message });
  };

  const declared = declaredVariables(file);
  for (const name of Object.keys(options.vars ?? {})) {
    const problem = checkVariableName(name);
    if (problem) errors.push({ path: `--var ${name}`, message: problem });
    else if (!declared.has(name)) {
      warnings.push({
        path: `--var ${name}`,
        message: `the file declares no variable '${name}': the value is only exported as ${envNameForVariable(name)}`,
      });
    }
  }
  errors.push(...misplacedSecretErrors(file, options.vars));
  const secrets = declaredSecrets(file);
  checkUniqueStageNames(file, error);
  checkUniqueWorkflowNames(file, error);
  errors.push(...trainErrors(file));
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) =>
      checkWorkflowSteps(workflow, ['stages', stageIndex, 'workflows', workflowIndex], error),
    ),
  );

  const stages: StagePlan[] = [];
  const stageSources: ExpandedWorkflow[][] = [];
  file.stages.forEach((stage, stageIndex) => {
    const expanded: ExpandedWorkflow[] = [];
    stage.workflows.forEach((workflow, workflowIndex) => {
      const result = expandWorkflow({
        workflow,
        path: ['stages', stageIndex, 'workflows', workflowIndex],
        stageName: stage.name,
        pipelineVariables: file.variables,
        overrides: options.vars,
        pipelineId: options.pipelineId,
        secrets,
      });
      errors.push(...result.issues);
      expanded.push(...result.workflows);
    });
    stageSources.push(expanded);
    stages.push({
      name: stage.name,
      workflows: expanded.map((workflow) => workflow.plan),
      barriers: stageBarriers(expanded),
    });
  });

  stageSources.forEach((sources, stageIndex) => {
    const timelines: BarrierOrderWorkflow[] = [];
    sources.forEach(({ plan, path }) => {
      const found = barrierTimelines(plan);
      if (Array.isArray(found)) timelines.push(...found);
      else error(path, found.tooMany);
    });
    const deadlocks = findBarrierDeadlocks(timelines);
    for (const deadlock of deadlocks) error(['stages', stageIndex], describeDeadlock(deadlock));
  });

  warnings.push(
    ...singleParticipantWarnings(stages, stageSources),
    ...reusedIdentifierWarnings(stages, stageSources),
    ...subSecondTimerWarnings(file),
    ...historyBudgetWarnings(stages),
    ...unusedSecretWarnings(file, stages),
  );
  return { errors, warnings, stages };
}

type ReportError = (at: readonly PathSegment[], message: string) => void;

function checkUniqueStageNames(file: PipelineFile, error: ReportError): void {
  const firstIndex = new Map<string, number>();
  file.stages.forEach((stage, index) => {
    const earlier = firstIndex.get(stage.name);
    if (earlier === undefined) firstIndex.set(stage.name, index);
    else error(['stages', index, 'name'], `duplicate stage name '${stage.name}' (also stages[${earlier}])`);
  });
}

/** Workflow names are unique in the whole pipeline, `forEach` expansions (`payments[eu]`) included. */
function checkUniqueWorkflowNames(file: PipelineFile, error: ReportError): void {
  const firstPath = new Map<string, string>();
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) => {
      const at: PathSegment[] = ['stages', stageIndex, 'workflows', workflowIndex];
      const workflowPath = formatPath(at);
      expandForEach(workflow).forEach((expansion, itemIndex) => {
        const earlier = firstPath.get(expansion.name);
        if (earlier === undefined) {
          firstPath.set(expansion.name, workflowPath);
        } else if (expansion.item === undefined) {
          error([...at, 'name'], `duplicate workflow name '${expansion.name}' (also ${earlier})`);
        } else if (earlier === workflowPath) {
          error([...at, 'forEach', itemIndex], `duplicate forEach item '${expansion.item}'`);
        } else {
          error(
            [...at, 'forEach', itemIndex],
            `workflow name '${expansion.name}' (from forEach) is already used by ${earlier}`,
          );
        }
      });
    }),
  );
}

/**
 * Step names unique across the workflow (its steps, its branches' steps, rollbackSteps) and branch
 * names unique in it; a barrier identifier at most once per participant (the workflow, or one
 * branch). A barrier may be shared by branches of one parallel step, which run side by side, but
 * not by the workflow and its branch, nor by branches of two parallel steps: one of them would
 * only start after the other crossed, so neither could.
 */
function checkWorkflowSteps(
  workflow: PipelineFile['stages'][number]['workflows'][number],
  at: readonly PathSegment[],
  error: ReportError,
): void {
  const stepNames = new Map<string, string>();
  const branchNames = new Map<string, string>();
  /** Barrier identifier → where its first step is and which lane (own steps, or a parallel step) it is in. */
  const barrierLanes = new Map<string, { where: string; lane: string }>();
  const checkName = (path: PathSegment[], name: string, where: string): void => {
    const earlier = stepNames.get(name);
    if (earlier === undefined) stepNames.set(name, where);
    else error([...path, 'name'], `duplicate step name '${name}' (also ${earlier})`);
  };
  const checkBarrier = (
    path: PathSegment[],
    identifier: string,
    where: string,
    lane: string,
    seenInParticipant: Map<string, string>,
  ): void => {
    const again = seenInParticipant.get(identifier);
    if (again !== undefined) {
      error(
        [...path, 'identifier'],
        `barrier '${identifier}' appears more than once in this ${lane === 'steps' ? 'workflow' : 'branch'} (also ${again})`,
      );
      return;
    }
    seenInParticipant.set(identifier, where);
    const first = barrierLanes.get(identifier);
    if (first === undefined) barrierLanes.set(identifier, { where, lane });
    else if (first.lane !== lane) {
      error(
        [...path, 'identifier'],
        `barrier '${identifier}' is also reached at ${first.where}, which runs only before or after ` +
          'this one in the same workflow: neither could cross (branches share a barrier only within one parallel step)',
      );
    }
  };
  const ownBarriers = new Map<string, string>();
  workflow.steps.forEach((step, index) => {
    const where = `steps[${index}]`;
    const path = [...at, 'steps', index];
    checkName(path, step.name, where);
    if (step.type === 'barrier') checkBarrier(path, step.identifier, where, 'steps', ownBarriers);
    if (step.type !== 'parallel') return;
    step.branches.forEach((branch, branchIndex) => {
      const branchWhere = `${where}.branches[${branchIndex}]`;
      const branchPath = [...path, 'branches', branchIndex];
      const earlierBranch = branchNames.get(branch.name);
      if (earlierBranch === undefined) branchNames.set(branch.name, branchWhere);
      else
        error(
          [...branchPath, 'name'],
          `duplicate branch name '${branch.name}' (also ${earlierBranch}); branch names are unique in a workflow`,
        );
      const branchBarriers = new Map<string, string>();
      branch.steps.forEach((branchStep, stepIndex) => {
        const stepWhere = `${branchWhere}.steps[${stepIndex}]`;
        const stepPath = [...branchPath, 'steps', stepIndex];
        checkName(stepPath, branchStep.name, stepWhere);
        if (branchStep.type === 'barrier')
          checkBarrier(stepPath, branchStep.identifier, stepWhere, where, branchBarriers);
      });
    });
  });
  (workflow.rollbackSteps ?? []).forEach((step, index) =>
    checkName([...at, 'rollbackSteps', index], step.name, `rollbackSteps[${index}]`),
  );
}

/** One barrier step of a workflow: the participant that reaches it and where it is in the file. */
interface BarrierStepVisit {
  readonly participant: string;
  readonly identifier: string;
  readonly skip: boolean;
  readonly path: readonly PathSegment[];
  readonly train?: TrainPlan;
}

/** Every barrier step of `workflow`, its branches' included, in step order. */
function barrierStepVisits({ plan, path }: ExpandedWorkflow): BarrierStepVisit[] {
  return plan.steps.flatMap((step, index): BarrierStepVisit[] => {
    const at = [...path, 'steps', index];
    if (step.type === 'barrier')
      return [
        { participant: plan.name, identifier: step.identifier, skip: step.skip, path: at, train: step.train },
      ];
    if (step.type !== 'parallel') return [];
    return step.branches.flatMap((branch, branchIndex) =>
      branch.steps.flatMap((inner, stepIndex): BarrierStepVisit[] =>
        inner.type === 'barrier'
          ? [
              {
                participant: joinParticipant(plan.name, branch.name),
                identifier: inner.identifier,
                skip: inner.skip || step.skip,
                path: [...at, 'branches', branchIndex, 'steps', stepIndex],
                train: inner.train,
              },
            ]
          : [],
      ),
    );
  });
}

/**
 * The stage's barriers in order of first appearance, each with every participant that has it: a
 * workflow, or `<workflow>/<branch>` for a barrier step in a branch.
 */
function stageBarriers(workflows: readonly ExpandedWorkflow[]): StageBarrierPlan[] {
  const participants = new Map<string, string[]>();
  const trains = new Map<string, TrainPlan>();
  for (const workflow of workflows) {
    for (const visit of barrierStepVisits(workflow)) {
      const list = participants.get(visit.identifier) ?? [];
      // Skipped steps still make a participant: it withdraws (counts as arrived) at run time.
      if (!list.includes(visit.participant)) list.push(visit.participant);
      participants.set(visit.identifier, list);
      // A train on one step applies to the whole barrier (./trains.ts rejects disagreeing ones).
      if (visit.train !== undefined && !trains.has(visit.identifier))
        trains.set(visit.identifier, visit.train);
    }
  }
  return [...participants].map(([identifier, names]) => {
    const train = trains.get(identifier);
    return { identifier, participants: names, ...(train === undefined ? {} : { train }) };
  });
}

/** Path of the first barrier step with `identifier` among a stage's expanded workflows. */
function barrierStepPath(workflows: readonly ExpandedWorkflow[], identifier: string): string {
  for (const workflow of workflows) {
    const visit = barrierStepVisits(workflow).find((v) => v.identifier === identifier);
    if (visit) return formatPath([...visit.path, 'identifier']);
  }
  return '';
}

/** More paths through a workflow's parallel steps than the deadlock check follows. */
export const MAX_BRANCH_PATHS = 1000;

/**
 * The orders in which `wf` reaches its barriers, for the deadlock check: one per path through its
 * parallel steps (one branch of each), since a branch starts after every barrier before its
 * parallel step crossed and the steps after it wait for every branch. A path through one branch
 * is named after it (`<workflow>/<branch>`); the others after the workflow.
 */
export function barrierTimelines(wf: WorkflowPlan): BarrierOrderWorkflow[] | { tooMany: string } {
  let paths: { names: string[]; barriers: BarrierVisit[] }[] = [{ names: [], barriers: [] }];
  for (const step of wf.steps) {
    if (step.type === 'barrier') {
      for (const path of paths) path.barriers.push({ identifier: step.identifier, skip: step.skip });
      continue;
    }
    if (step.type !== 'parallel') continue;
    if (paths.length * step.branches.length > MAX_BRANCH_PATHS) {
      return {
        tooMany:
          `the parallel steps of ${wf.name} make more than ${MAX_BRANCH_PATHS} combinations of branches ` +
          'to check for barrier deadlocks; split the workflow',
      };
    }
    paths = paths.flatMap((path) =>
      step.branches.map((branch) => ({
        names: [...path.names, branch.name],
        barriers: [
          ...path.barriers,
          ...branch.steps.flatMap((inner) =>
            inner.type === 'barrier' ? [{ identifier: inner.identifier, skip: inner.skip || step.skip }] : [],
          ),
        ],
      })),
    );
  }
  return paths.map((path) => ({
    name: path.names.length === 1 ? joinParticipant(wf.name, path.names[0]) : wf.name,
    barriers: path.barriers,
  }));
}

function singleParticipantWarnings(
  stages: readonly StagePlan[],
  sources: readonly ExpandedWorkflow[][],
): ValidationIssue[] {
  const warnings: ValidationIssue[] = [];
  stages.forEach((stage, stageIndex) => {
    for (const barrier of stage.barriers) {
      // A train barrier waits for the other pipelines too: it does not pass at once.
      if (barrier.participants.length !== 1 || barrier.train !== undefined) continue;
      warnings.push({
        path: barrierStepPath(sources[stageIndex]!, barrier.identifier),
        message:
          `barrier '${barrier.identifier}' has a single participant (${barrier.participants[0]}) ` +
          `in stage '${stage.name}'; it passes at once`,
      });
    }
  });
  return warnings;
}

function reusedIdentifierWarnings(
  stages: readonly StagePlan[],
  sources: readonly ExpandedWorkflow[][],
): ValidationIssue[] {
  const warnings: ValidationIssue[] = [];
  const firstStage = new Map<string, string>();
  stages.forEach((stage, stageIndex) => {
    for (const barrier of stage.barriers) {
      const earlier = firstStage.get(barrier.identifier);
      if (earlier === undefined) {
        firstStage.set(barrier.identifier, stage.name);
        continue;
      }
      warnings.push({
        path: barrierStepPath(sources[stageIndex]!, barrier.identifier),
        message:
          `barrier '${barrier.identifier}' is also used in stage '${earlier}'; ` +
          'barriers in different stages are independent',
      });
    }
  });
  return warnings;
}

/** Timer precision needs a server setting; Convoy's own servers have it, other clusters may not. */
export const SUB_SECOND_TIMER_WARNING =
  'a timer under 1 s fires up to a second late unless the Temporal server sets ' +
  "history.timerProcessorMaxTimeShift (Convoy's servers set 10ms; see README, Timer precision)";

function subSecondTimerWarnings(file: PipelineFile): ValidationIssue[] {
  const warnings: ValidationIssue[] = [];
  const checkStep = (step: StepFile, at: readonly PathSegment[]): void => {
    const timer =
      step.type === 'barrier'
        ? { field: 'timeoutMs', ms: step.timeoutMs }
        : step.type === 'wait'
          ? { field: 'durationMs', ms: step.durationMs }
          : undefined;
    if (timer?.ms === undefined || timer.ms >= 1000) return;
    warnings.push({ path: formatPath([...at, timer.field]), message: SUB_SECOND_TIMER_WARNING });
  };
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) =>
      workflow.steps.forEach((step, stepIndex) => {
        const at = ['stages', stageIndex, 'workflows', workflowIndex, 'steps', stepIndex];
        if (step.type !== 'parallel') return checkStep(step, at);
        step.branches.forEach((branch, branchIndex) =>
          branch.steps.forEach((inner, innerIndex) =>
            checkStep(inner, [...at, 'branches', branchIndex, 'steps', innerIndex]),
          ),
        );
      }),
    ),
  );
  return warnings;
}

function historyBudgetWarnings(stages: readonly StagePlan[]): ValidationIssue[] {
  const prediction = predictParentHistoryEvents(stages);
  if (prediction.events <= HISTORY_WARN_EVENTS) return [];
  const limit =
    prediction.events > HISTORY_LIMIT_EVENTS
      ? `past Temporal's limit of ${HISTORY_LIMIT_EVENTS.toLocaleString('en-US')}, where the server terminates it`
      : `past the ${HISTORY_WARN_EVENTS.toLocaleString('en-US')} at which Temporal warns`;
  return [
    {
      path: 'stages',
      message:
        `the pipeline workflow's history may reach ${prediction.events.toLocaleString('en-US')} events ` +
        `(${prediction.workflows} workflows, ${prediction.arrivals} barrier arrivals), ${limit}; ` +
        'split it into several pipelines or fewer barriers per workflow',
    },
  ];
}

/** Variables the file declares, pipeline-wide or in any workflow. */
function declaredVariables(file: PipelineFile): Set<string> {
  const names = new Set(Object.keys(file.variables ?? {}));
  for (const stage of file.stages)
    for (const workflow of stage.workflows)
      for (const name of Object.keys(workflow.variables ?? {})) names.add(name);
  return names;
}
