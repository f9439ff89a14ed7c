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
import type { StageBarrierPlan, StagePlan } from '../model/plan';
import { type PathSegment, type ValidationIssue, formatPath } from './issues';
import type { PipelineFile } from './schema';
import {
  type ChildPipelineLoader,
  type ExpandedWorkflow,
  checkVariableName,
  envNameForVariable,
  expandForEach,
  expandWorkflow,
} from './expand';
import { describeDeadlock, findBarrierDeadlocks } from './barrier-order';
import { stageOrder } from './nesting-order';
import { nestedParticipantName, parentBarrierOf, parentParticipantsOf } from '../model/participants';
import { declaredSecrets, misplacedSecretErrors, unusedSecretWarnings } from './secrets';

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
    checkParentTargets(stage.name, expanded, error);
    stages.push({
      name: stage.name,
      workflows: expanded.map((workflow) => workflow.plan),
      barriers: stageBarriers(expanded),
    });
  });

  stages.forEach((stage, stageIndex) => {
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

/** Step names unique across steps and rollbackSteps; a barrier identifier at most once. */
function checkWorkflowSteps(
  workflow: PipelineFile['stages'][number]['workflows'][number],
  at: readonly PathSegment[],
  error: ReportError,
): void {
  const stepNames = new Map<string, string>();
  const barrierSteps = new Map<string, string>();
  const check = (list: 'steps' | 'rollbackSteps') =>
    (workflow[list] ?? []).forEach((step, index) => {
      const where = `${list}[${index}]`;
      const earlier = stepNames.get(step.name);
      if (earlier === undefined) stepNames.set(step.name, where);
      else error([...at, list, index, 'name'], `duplicate step name '${step.name}' (also ${earlier})`);
      if (step.type === 'barrier') {
        const earlierBarrier = barrierSteps.get(step.identifier);
        if (earlierBarrier === undefined) barrierSteps.set(step.identifier, where);
        else {
          error(
            [...at, list, index, 'identifier'],
            `barrier '${step.identifier}' appears more than once in this workflow (also ${earlierBarrier})`,
          );
        }
      }
    });
  check('steps');
  check('rollbackSteps');
}

/**
 * The stage's barriers in order of first appearance, each with every workflow that has it and
 * every child pipeline workflow that joins it (`<caller>/<workflow>`). A `parent.` barrier is not
 * the stage's own: the calling pipeline coordinates it.
 */
function stageBarriers(workflows: readonly ExpandedWorkflow[]): StageBarrierPlan[] {
  const participants = new Map<string, string[]>();
  const add = (identifier: string, name: string): void => {
    const list = participants.get(identifier) ?? [];
    // Skipped steps still make a participant: it withdraws (counts as arrived) at run time.
    if (!list.includes(name)) list.push(name);
    participants.set(identifier, list);
  };
  for (const { plan } of workflows) {
    for (const step of plan.steps) {
      if (step.type === 'barrier' && parentBarrierOf(step.identifier) === undefined)
        add(step.identifier, plan.name);
    }
  }
  for (const { plan } of workflows) {
    for (const step of plan.steps) {
      if (step.type !== 'pipeline') continue;
      for (const child of parentParticipantsOf(step.pipeline))
        for (const childStep of child.steps) {
          const joined = childStep.type === 'barrier' ? parentBarrierOf(childStep.identifier) : undefined;
          if (joined !== undefined && participants.has(joined))
            add(joined, nestedParticipantName(plan.name, child.name));
        }
    }
  }
  return [...participants].map(([identifier, names]) => ({ identifier, participants: names }));
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
 * Each `parent.X` barrier of a child pipeline joins barrier X of the calling stage, which a
 * workflow of that stage must have; a participant name must come from one step only.
 */
function checkParentTargets(stage: string, workflows: readonly ExpandedWorkflow[], error: ReportError): void {
  const own = new Set<string>();
  for (const { plan } of workflows)
    for (const step of plan.steps)
      if (step.type === 'barrier' && parentBarrierOf(step.identifier) === undefined) own.add(step.identifier);
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
    const index = workflow.plan.steps.findIndex(
      (step) => step.type === 'barrier' && step.identifier === identifier,
    );
    if (index >= 0) return formatPath([...workflow.path, 'steps', index, 'identifier']);
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
      if (barrier.participants.length !== 1) continue;
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
  file.stages.forEach((stage, stageIndex) =>
    stage.workflows.forEach((workflow, workflowIndex) =>
      workflow.steps.forEach((step, stepIndex) => {
        const timer =
          step.type === 'barrier'
            ? { field: 'timeoutMs', ms: step.timeoutMs }
            : step.type === 'wait'
              ? { field: 'durationMs', ms: step.durationMs }
              : undefined;
        if (timer?.ms === undefined || timer.ms >= 1000) return;
        warnings.push({
          path: formatPath([
            'stages',
            stageIndex,
            'workflows',
            workflowIndex,
            'steps',
            stepIndex,
            timer.field,
          ]),
          message: SUB_SECOND_TIMER_WARNING,
        });
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
