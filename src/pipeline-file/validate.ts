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
import type { StageBarrierPlan, StagePlan, TrainPlan } from '../model/plan';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import type { PipelineFile, StepFile } from './schema';
import {
  type ChildPipelineLoader,
  type ExpandedWorkflow,
  checkVariableName,
  envNameForVariable,
  expandForEach,
  expandWorkflow,
} from './expand';
import { barrierTimelines, describeDeadlock, findBarrierDeadlocks } from './barrier-order';
import { stageOrder } from './nesting-order';
import {
  branchesOf,
  joinParticipant,
  nestedParticipantName,
  parentBarrierOf,
  parentParticipantsOf,
} from '../model/participants';
import { declaredSecrets, misplacedSecretErrors, unusedSecretWarnings } from './secrets';
import { trainErrors } from './trains';

/** Options of {@link validatePipeline}. */
export interface ValidatePipelineOptions {
  /** `--var` overrides. */
  vars?: Readonly<Record<string, string>>;
  /** Used by `${{ pipeline.id }}`; validation alone can pass any placeholder. */
  pipelineId: string;
  /** Compiles the child pipelines of `pipeline` steps (compile.ts reads them from disk). */
  loadChild?: ChildPipelineLoader;
  /** The file is compiled as a child pipeline: its `parent.` barriers join the caller's. */
  asChild?: boolean;
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
        loadChild: options.loadChild,
      });
      errors.push(...result.issues);
      expanded.push(...result.workflows);
    });
    stageSources.push(expanded);
    if (!options.asChild) checkNoParentBarriers(expanded, error);
    checkParentBarrierPlacement(expanded, error);
    checkParentTargets(stage.name, expanded, error);
    checkParticipantNames(expanded, error);
    stages.push({
      name: stage.name,
      workflows: expanded.map((workflow) => workflow.plan),
      barriers: stageBarriers(expanded),
    });
  });

  stages.forEach((stage, stageIndex) => {
    // Each path through a workflow's parallel steps (./barrier-order) and the orderings child
    // pipelines add (./nesting-order).
    stageSources[stageIndex]!.forEach(({ plan, path }) => {
      const found = barrierTimelines(plan);
      if (!Array.isArray(found)) error(path, found.tooMany);
    });
    const order = stageOrder(stage);
    for (const deadlock of findBarrierDeadlocks(order.workflows))
      error(['stages', stageIndex], describeDeadlock(deadlock));
    for (const message of order.selfDeadlocks) error(['stages', stageIndex], message);
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
 * workflow, `<workflow>/<branch>` for a barrier step in a branch, and every child pipeline
 * workflow that joins it (`<caller>/<workflow>`). A `parent.` barrier is not the stage's own: the
 * calling pipeline coordinates it.
 */
function stageBarriers(workflows: readonly ExpandedWorkflow[]): StageBarrierPlan[] {
  const participants = new Map<string, string[]>();
  const trains = new Map<string, TrainPlan>();
  for (const workflow of workflows) {
    for (const visit of barrierStepVisits(workflow)) {
      if (parentBarrierOf(visit.identifier) !== undefined) continue;
      const list = participants.get(visit.identifier) ?? [];
      // Skipped steps still make a participant: it withdraws (counts as arrived) at run time.
      if (!list.includes(visit.participant)) list.push(visit.participant);
      participants.set(visit.identifier, list);
      // A train on one step applies to the whole barrier (./trains.ts rejects disagreeing ones).
      if (visit.train !== undefined && !trains.has(visit.identifier))
        trains.set(visit.identifier, visit.train);
    }
  }
  for (const { plan } of workflows) {
    for (const step of plan.steps) {
      if (step.type !== 'pipeline') continue;
      for (const child of parentParticipantsOf(step.pipeline))
        for (const childStep of child.steps) {
          const joined = childStep.type === 'barrier' ? parentBarrierOf(childStep.identifier) : undefined;
          const list = joined === undefined ? undefined : participants.get(joined);
          const name = nestedParticipantName(plan.name, child.name);
          if (list && !list.includes(name)) list.push(name);
        }
    }
  }
  return [...participants].map(([identifier, names]) => {
    const train = trains.get(identifier);
    return { identifier, participants: names, ...(train === undefined ? {} : { train }) };
  });
}

/** A pipeline run on its own has no caller: a `parent.` barrier there could never cross. */
function checkNoParentBarriers(workflows: readonly ExpandedWorkflow[], error: ReportError): void {
  for (const { plan, path } of workflows)
    plan.steps.forEach((step, index) => {
      const joined = step.type === 'barrier' ? parentBarrierOf(step.identifier) : undefined;
      if (joined === undefined) return;
      error(
        [...path, 'steps', index, 'identifier'],
        `barrier '${step.type === 'barrier' ? step.identifier : ''}' joins the calling pipeline's barrier '${joined}': ` +
          'only a child pipeline (run by a step of type pipeline) can have it; run the calling pipeline instead',
      );
    });
}

/**
 * A `parent.` barrier step stands in a child pipeline workflow's own steps, without a train: the
 * child pipeline relays for that workflow only (not for a branch of it), and the calling
 * pipeline's barrier decides whether a train takes part.
 */
function checkParentBarrierPlacement(workflows: readonly ExpandedWorkflow[], error: ReportError): void {
  for (const workflow of workflows)
    for (const visit of barrierStepVisits(workflow)) {
      const joined = parentBarrierOf(visit.identifier);
      if (joined === undefined) continue;
      if (visit.participant !== workflow.plan.name)
        error(
          [...visit.path, 'identifier'],
          `barrier '${visit.identifier}' joins the calling pipeline's barrier '${joined}' from a branch; ` +
            'a parent. barrier must be a step of the workflow itself',
        );
      if (visit.train !== undefined)
        error(
          [...visit.path, 'train'],
          `barrier '${visit.identifier}' joins the calling pipeline's barrier '${joined}': ` +
            "it cannot name a train; put the train on the calling pipeline's barrier",
        );
    }
}

/**
 * A participant `<workflow>/<name>` is a branch of the workflow or a child pipeline's workflow
 * (./model/participants): the two must not share a name in one workflow, or messages for one
 * would reach the other.
 */
function checkParticipantNames(workflows: readonly ExpandedWorkflow[], error: ReportError): void {
  for (const { plan, path } of workflows) {
    const branches = new Set(branchesOf(plan).map((entry) => entry.branch.name));
    plan.steps.forEach((step, index) => {
      if (step.type !== 'pipeline') return;
      for (const child of parentParticipantsOf(step.pipeline))
        if (branches.has(child.name))
          error(
            [...path, 'steps', index, 'file'],
            `participant ${nestedParticipantName(plan.name, child.name)} would be both a branch of ${plan.name} ` +
              `and workflow ${child.name} of child pipeline ${step.name} (${step.file}); rename the branch or the child workflow`,
          );
    });
  }
}

/**
 * Each `parent.X` barrier of a child pipeline joins barrier X of the calling stage, which a
 * workflow of that stage must have; a participant name must come from one step only.
 */
function checkParentTargets(stage: string, workflows: readonly ExpandedWorkflow[], error: ReportError): void {
  // The stage's own barriers, its branches' included: a child pipeline may meet a branch too.
  const own = new Set<string>();
  for (const workflow of workflows)
    for (const visit of barrierStepVisits(workflow))
      if (parentBarrierOf(visit.identifier) === undefined) own.add(visit.identifier);
  for (const { plan, path } of workflows) {
    const joinedBy = new Map<string, string>();
    plan.steps.forEach((step, index) => {
      if (step.type !== 'pipeline') return;
      for (const child of parentParticipantsOf(step.pipeline))
        for (const childStep of child.steps) {
          const joined = childStep.type === 'barrier' ? parentBarrierOf(childStep.identifier) : undefined;
          if (joined === undefined) continue;
          const at = [...path, 'steps', index, 'file'];
          if (!own.has(joined)) {
            const known = [...own].sort();
            error(
              at,
              `${step.file}: workflow ${child.name}: barrier '${childStep.type === 'barrier' ? childStep.identifier : ''}' ` +
                `joins barrier '${joined}' of the calling stage '${stage}', which no workflow of that stage has` +
                (known.length > 0 ? ` (its barriers: ${known.join(', ')})` : ' (it has no barriers)'),
            );
            continue;
          }
          const name = nestedParticipantName(plan.name, child.name);
          const key = `${joined}\u0000${name}`;
          const earlier = joinedBy.get(key);
          if (earlier !== undefined && earlier !== step.name) {
            error(
              at,
              `participant ${name} of barrier '${joined}' would come from two pipeline steps (${earlier} and ${step.name}); ` +
                'rename one of the child workflows',
            );
          }
          joinedBy.set(key, step.name);
        }
    });
  }
}

/** Path of the first barrier step with `identifier` among a stage's expanded workflows. */
function barrierStepPath(workflows: readonly ExpandedWorkflow[], identifier: string): string {
  for (const workflow of workflows) {
    const visit = barrierStepVisits(workflow).find((v) => v.identifier === identifier);
    if (visit) return formatPath([...visit.path, 'identifier']);
  }
  return '';
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
        if (step.type === 'pipeline') return;
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
export function declaredVariables(file: PipelineFile): Set<string> {
  const names = new Set(Object.keys(file.variables ?? {}));
  for (const stage of file.stages)
    for (const workflow of stage.workflows)
      for (const name of Object.keys(workflow.variables ?? {})) names.add(name);
  return names;
}
