/**
 * The execution plan: a pipeline file after validation, `forEach` expansion, variable expansion
 * and `when` evaluation. It is what the client hands to the pipeline workflow, so it crosses a
 * process boundary and is described by zod schemas (the workflow re-validates its input).
 *
 * Pure module: no Node built-ins, no Temporal imports (workflow code imports it).
 */
import { z } from 'zod';
import { stepSecretsSchema } from './secrets';

/** Error types a failure-strategy rule can match (SPEC section 4). */
export const ErrorTypes = {
  stepFailed: 'step-failed',
  stepTimeout: 'step-timeout',
  barrierBroken: 'barrier-broken',
  barrierTimeout: 'barrier-timeout',
  any: 'any',
} as const;
export type ErrorType = (typeof ErrorTypes)[keyof typeof ErrorTypes];
export const errorTypeSchema = z.enum(ErrorTypes);

/** Actions a failure-strategy rule can take (SPEC section 4). */
export const Actions = {
  abort: 'abort',
  rollback: 'rollback',
  ignore: 'ignore',
  retry: 'retry',
  manualIntervention: 'manual-intervention',
} as const;
export type Action = (typeof Actions)[keyof typeof Actions];

/** Decisions an operator can give a workflow waiting for manual intervention. */
export const InterventionActions = {
  retry: 'retry',
  ignore: 'ignore',
  abort: 'abort',
  rollback: 'rollback',
  markSuccess: 'mark-success',
} as const;
/** An operator's decision for a workflow waiting for manual intervention (SPEC section 4). */
export type InterventionAction = (typeof InterventionActions)[keyof typeof InterventionActions];
export const interventionActionSchema = z.enum(InterventionActions);

/** Millisecond durations: integers from 1 ms to 30 days (SPEC section 2 rule 3). */
export const MAX_DURATION_MS = 2_592_000_000;
export const durationMsSchema = z.number().int().min(1).max(MAX_DURATION_MS);

/** Default barrier timeout (SPEC section 1). */
export const DEFAULT_BARRIER_TIMEOUT_MS = 600_000;

/** Actions allowed where a nested action is expected (onRetryFailure, onTimeout). */
export const fallbackActionSchema = z.enum(['abort', 'rollback', 'ignore', 'manual-intervention']);
export type FallbackAction = z.infer<typeof fallbackActionSchema>;

/** Actions allowed as a manual intervention's `onTimeout`. */
export const interventionTimeoutActionSchema = z.enum(['abort', 'rollback', 'ignore', 'mark-success']);

/** A failure-strategy rule, already validated. */
export const failureRuleSchema = z.object({
  on: z.array(errorTypeSchema).min(1),
  action: z.enum(Actions),
  /** retry: how many more attempts after the first failure. */
  retryCount: z.number().int().min(1).max(1000).optional(),
  /** retry: waits between attempts; the last value repeats. */
  retryIntervalsMs: z.array(durationMsSchema).optional(),
  /** retry: what to do when every retry failed (default: the default rule). */
  onRetryFailure: fallbackActionSchema.optional(),
  /** manual-intervention: how long to wait for an operator. */
  timeoutMs: durationMsSchema.optional(),
  /** manual-intervention: what to do when nobody decided in time (default abort). */
  onTimeout: interventionTimeoutActionSchema.optional(),
});
export type FailureRule = z.infer<typeof failureRuleSchema>;

const stepCommon = {
  name: z.string().min(1),
  /** Free text from the file (e.g. where an imported step came from); shown nowhere yet. */
  description: z.string().optional(),
  /** Step timeout; for barrier steps this is the barrier timeout. */
  timeoutMs: durationMsSchema.optional(),
  /** True when the step's `when` condition evaluated false: the step is skipped. */
  skip: z.boolean(),
  failureStrategies: z.array(failureRuleSchema),
};

export const shellStepPlanSchema = z.object({
  ...stepCommon,
  type: z.literal('shell'),
  /** The command after expansion; every expansion is already one safely quoted shell word. */
  command: z.string(),
  /** Environment for the process, including `CONVOY_VAR_<NAME>` for every variable. */
  env: z.record(z.string(), z.string()),
  /** Where the worker reads the secrets the step uses (see ./secrets); absent when none. */
  secrets: stepSecretsSchema.optional(),
});

export const httpStepPlanSchema = z.object({
  ...stepCommon,
  type: z.literal('http'),
  method: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  body: z.string().optional(),
  expectStatus: z.array(z.number().int()).min(1),
  /** Where the worker reads the secrets the step uses (see ./secrets); absent when none. */
  secrets: stepSecretsSchema.optional(),
});

export const waitStepPlanSchema = z.object({
  ...stepCommon,
  type: z.literal('wait'),
  durationMs: durationMsSchema,
});

/**
 * A release train (issue 14): the barrier is also met by other, independently started pipelines
 * of the namespace that name the same train and identifier. `expect` names the pipelines (their
 * `name:`) that must arrive.
 */
export const trainPlanSchema = z.object({
  name: z.string().min(1),
  expect: z.array(z.string().min(1)).min(1),
});
export type TrainPlan = z.infer<typeof trainPlanSchema>;

export const barrierStepPlanSchema = z.object({
  ...stepCommon,
  type: z.literal('barrier'),
  identifier: z.string(),
  /** Always set for barriers (default {@link DEFAULT_BARRIER_TIMEOUT_MS}). */
  timeoutMs: durationMsSchema,
  /** Set when the barrier is part of a release train. */
  train: trainPlanSchema.optional(),
});

/** The steps a branch of a parallel step runs: every step type but `parallel` (no nesting). */
export const branchStepPlanSchema = z.discriminatedUnion('type', [
  shellStepPlanSchema,
  httpStepPlanSchema,
  waitStepPlanSchema,
  barrierStepPlanSchema,
]);
/** A step that runs on its own: shell, http, wait or barrier (what a branch holds). */
export type BranchStepPlan = z.infer<typeof branchStepPlanSchema>;

/**
 * One branch of a parallel step. Its name is unique in the workflow: a barrier step in it makes
 * the branch a participant named `<workflow>/<branch>` (see ./participants).
 */
export const branchPlanSchema = z.object({
  name: z.string().min(1),
  steps: z.array(branchStepPlanSchema).min(1),
});
export type BranchPlan = z.infer<typeof branchPlanSchema>;

/**
 * A group of branches run concurrently inside the workflow; it succeeds when every branch has.
 * Its failure strategies are its steps' own: a step of a branch fails and is handled as any step.
 */
export const parallelStepPlanSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** True when the group's `when` evaluated false: no branch runs, their barriers are withdrawn. */
  skip: z.boolean(),
  type: z.literal('parallel'),
  branches: z.array(branchPlanSchema).min(1),
});
export type ParallelStepPlan = z.infer<typeof parallelStepPlanSchema>;

/**
 * The plan of a child pipeline, embedded in the step that runs it (so the workflow reads no file).
 * An interface, so that the recursion plan → step → plan has a name TypeScript can stop at.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the name breaks the type recursion
export interface ChildPipelinePlan extends PipelinePlan {}

/**
 * Runs another pipeline file as a child pipeline of the workflow (issue 14): its plan is compiled
 * and embedded here, with `pipelineId` the child pipeline workflow's ID
 * (`<pipelineId>/<workflow>/<step>`, see ./participants). Its barrier steps named
 * `parent.<identifier>` join the calling stage's barrier `<identifier>`.
 */
export const pipelineStepPlanSchema = z.object({
  ...stepCommon,
  type: z.literal('pipeline'),
  /** The file as the calling file names it (`./db-pipeline.yaml`), for messages. */
  file: z.string(),
  pipeline: z.lazy((): z.ZodType<ChildPipelinePlan> => pipelinePlanSchema),
});
export type PipelineStepPlan = z.infer<typeof pipelineStepPlanSchema>;

export const stepPlanSchema = z.discriminatedUnion('type', [
  shellStepPlanSchema,
  httpStepPlanSchema,
  waitStepPlanSchema,
  barrierStepPlanSchema,
  parallelStepPlanSchema,
  pipelineStepPlanSchema,
]);
export type StepPlan = z.infer<typeof stepPlanSchema>;
export type ShellStepPlan = z.infer<typeof shellStepPlanSchema>;
export type HttpStepPlan = z.infer<typeof httpStepPlanSchema>;
export type WaitStepPlan = z.infer<typeof waitStepPlanSchema>;
export type BarrierStepPlan = z.infer<typeof barrierStepPlanSchema>;
export type StepType = StepPlan['type'];

/** Rollback steps are never barriers (SPEC section 2 rule 4). */
export const rollbackStepPlanSchema = z.discriminatedUnion('type', [
  shellStepPlanSchema,
  httpStepPlanSchema,
  waitStepPlanSchema,
]);
export type RollbackStepPlan = z.infer<typeof rollbackStepPlanSchema>;

export const workflowPlanSchema = z.object({
  /** Unique in the pipeline; `forEach` expansions are named `name[item]`. */
  name: z.string().min(1),
  stage: z.string().min(1),
  /** Merged variables (pipeline, then workflow, then `--var` overrides, plus `item`). */
  variables: z.record(z.string(), z.string()),
  steps: z.array(stepPlanSchema),
  rollbackSteps: z.array(rollbackStepPlanSchema),
  /** Workflow-level rules. */
  failureStrategies: z.array(failureRuleSchema),
});
export type WorkflowPlan = z.infer<typeof workflowPlanSchema>;

export const stageBarrierPlanSchema = z.object({
  identifier: z.string(),
  /**
   * Participants: workflow names (after forEach expansion) whose own steps contain the identifier,
   * and `<workflow>/<branch>` for each branch of a parallel step that does (./participants).
   */
  participants: z.array(z.string()).min(1),
  /** The release train this barrier joins once its own participants have crossed it. */
  train: trainPlanSchema.optional(),
});
export type StageBarrierPlan = z.infer<typeof stageBarrierPlanSchema>;

export const stagePlanSchema = z.object({
  name: z.string().min(1),
  workflows: z.array(workflowPlanSchema),
  barriers: z.array(stageBarrierPlanSchema),
});
export type StagePlan = z.infer<typeof stagePlanSchema>;

export const pipelinePlanSchema = z.object({
  pipelineId: z.string().min(1),
  name: z.string().min(1),
  /** Path of the file the plan came from, for messages. */
  source: z.string(),
  /** Pipeline-wide default rules. */
  failureStrategies: z.array(failureRuleSchema),
  stages: z.array(stagePlanSchema).min(1),
});
export type PipelinePlan = z.infer<typeof pipelinePlanSchema>;

/** A step run in order on its lane (the workflow's own or a branch's): every type but `parallel`. */
export type SequentialStepPlan = BranchStepPlan | PipelineStepPlan;

/** Every step of `steps` but parallel ones, those in parallel steps' branches included. */
export function leafSteps(steps: readonly StepPlan[]): SequentialStepPlan[] {
  return steps.flatMap((step) =>
    step.type === 'parallel' ? step.branches.flatMap((branch) => branch.steps) : [step],
  );
}
