/**
 * The pipeline result document of SPEC section 5: what `convoy run --json` and
 * `convoy status --json` print and what the pipeline workflow's `status` query returns.
 *
 * Pure module (workflow code imports it). Timestamps are ISO-8601 strings with milliseconds.
 */
import { z } from 'zod';

export const PipelineStatuses = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  aborted: 'aborted',
  /** Ended by Temporal (`temporal workflow terminate`, the Web UI's Terminate) before it finished. */
  terminated: 'terminated',
  /** Ended by Temporal when its workflow execution timeout passed, before it finished. */
  timedOut: 'timed-out',
} as const;
/**
 * A pipeline's status: `running`, then `succeeded`, `failed` or `aborted`; or `terminated` or
 * `timed-out` when Temporal ended it before it finished.
 */
export type PipelineStatus = (typeof PipelineStatuses)[keyof typeof PipelineStatuses];

export const StageStatuses = {
  notStarted: 'not-started',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  aborted: 'aborted',
} as const;
/** A stage's status: `not-started`, `running`, then `succeeded`, `failed` or `aborted`. */
export type StageStatus = (typeof StageStatuses)[keyof typeof StageStatuses];

export const WorkflowStatuses = {
  notStarted: 'not-started',
  running: 'running',
  waitingAtBarrier: 'waiting-at-barrier',
  waitingForIntervention: 'waiting-for-intervention',
  succeeded: 'succeeded',
  failed: 'failed',
  aborted: 'aborted',
  rolledBack: 'rolled-back',
} as const;
/**
 * A workflow's status: `not-started`, `running`, `waiting-at-barrier`, `waiting-for-intervention`,
 * then `succeeded`, `failed`, `aborted` or `rolled-back`.
 */
export type WorkflowStatus = (typeof WorkflowStatuses)[keyof typeof WorkflowStatuses];

/** The statuses a workflow ends with; once it has one, it never changes. */
const FINAL_WORKFLOW_STATUSES: ReadonlySet<WorkflowStatus> = new Set([
  WorkflowStatuses.succeeded,
  WorkflowStatuses.failed,
  WorkflowStatuses.aborted,
  WorkflowStatuses.rolledBack,
]);

/** True when a workflow has ended (succeeded, failed, aborted or rolled back). */
export function isFinalWorkflowStatus(status: WorkflowStatus): boolean {
  return FINAL_WORKFLOW_STATUSES.has(status);
}

/** True while a workflow runs: started, not ended (whether running, at a barrier or waiting for an operator). */
export function isLiveWorkflowStatus(status: WorkflowStatus): boolean {
  return status !== WorkflowStatuses.notStarted && !isFinalWorkflowStatus(status);
}

export const StepStatuses = {
  running: 'running',
  waiting: 'waiting',
  succeeded: 'succeeded',
  failed: 'failed',
  ignored: 'ignored',
  skipped: 'skipped',
} as const;
/** A step's status: `running` or `waiting` (at a barrier), then `succeeded`, `failed`, `ignored` or `skipped`. */
export type StepStatus = (typeof StepStatuses)[keyof typeof StepStatuses];

export const BarrierStatuses = {
  standing: 'standing',
  crossed: 'crossed',
  broken: 'broken',
  timedOut: 'timed-out',
  forced: 'forced',
} as const;
/** A barrier's status (SPEC section 3): `standing`, then `crossed`, `broken`, `timed-out` or `forced`. */
export type BarrierStatus = (typeof BarrierStatuses)[keyof typeof BarrierStatuses];

export const stepErrorSchema = z.object({ type: z.string(), message: z.string() });
/** Why a step failed: its error `type` (`step-failed`, `barrier-broken`, `cancelled`, …) and a message. */
export type StepError = z.infer<typeof stepErrorSchema>;

export const BranchStatuses = {
  running: 'running',
  waitingAtBarrier: 'waiting-at-barrier',
  waitingForIntervention: 'waiting-for-intervention',
  succeeded: 'succeeded',
  failed: 'failed',
  /** Stopped because a sibling branch failed, or the pipeline was aborted. */
  cancelled: 'cancelled',
  /** Its parallel step was skipped by `when`. */
  skipped: 'skipped',
} as const;
/**
 * A branch's status: `running`, `waiting-at-barrier`, `waiting-for-intervention`, then
 * `succeeded`, `failed`, `cancelled` or `skipped`.
 */
export type BranchStatus = (typeof BranchStatuses)[keyof typeof BranchStatuses];

const leafStepResultSchema = z.object({
  name: z.string(),
  type: z.string(),
  status: z.enum(StepStatuses),
  /**
   * How many times the step was started: its failure strategies' retries, plus Temporal's
   * re-runs after a lost worker (counted once the activity ends).
   */
  attempts: z.number().int().min(0),
  /** Of those, how many were Temporal's re-runs after the step's worker was lost; absent when none. */
  workerRestarts: z.number().int().min(1).optional(),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  error: stepErrorSchema.optional(),
  /** Shell steps: exit code and the tail of stdout/stderr; http steps: the status code. */
  output: z
    .object({
      exitCode: z.number().int().nullable().optional(),
      stdoutTail: z.string().optional(),
      stderrTail: z.string().optional(),
      httpStatus: z.number().int().optional(),
    })
    .optional(),
  /** True for a step of rollbackSteps. */
  rollback: z.boolean().optional(),
  /** A `pipeline` step: the child pipeline's document (live while it runs, final once it ended). */
  pipeline: z.lazy((): z.ZodType<ChildPipelineResult> => pipelineResultSchema).optional(),
});

export const branchResultSchema = z.object({
  name: z.string(),
  /** Its name as a barrier participant: `<workflow>/<branch>`. */
  participant: z.string(),
  status: z.enum(BranchStatuses),
  steps: z.array(leafStepResultSchema),
});
/** One branch of a parallel step in the result document, with its steps. */
export type BranchResult = z.infer<typeof branchResultSchema>;

export const stepResultSchema = leafStepResultSchema.extend({
  /** Parallel steps: each branch, its status and its steps. */
  branches: z.array(branchResultSchema).optional(),
});
/** One step (or one rollback step) of a workflow in the result document. */
export type StepResult = z.infer<typeof stepResultSchema>;

export const interventionWaitSchema = z.object({
  /** The step whose failure the operator is asked to decide on. */
  step: z.string(),
  /** When the workflow started waiting. */
  since: z.string(),
  /** When the rule's `onTimeout` applies if nobody decides; absent when the rule has no timeout. */
  deadline: z.string().optional(),
});
/** What a workflow waiting for manual intervention waits on. */
export type InterventionWait = z.infer<typeof interventionWaitSchema>;
/**
 * Signals a workflow refused (no or a wrong capability, a sender or fields the plan contradicts,
 * a malformed payload): how many, by the sender they claimed. Absent when none.
 */
export const rejectedMessagesSchema = z.object({
  count: z.number().int().min(1),
  bySender: z.record(z.string(), z.number().int().min(1)),
});

export const workflowResultSchema = z.object({
  name: z.string(),
  stage: z.string(),
  status: z.enum(WorkflowStatuses),
  steps: z.array(stepResultSchema),
  /** Present only while the workflow waits for manual intervention (from the workflow's own query). */
  intervention: interventionWaitSchema.optional(),
  rejectedMessages: rejectedMessagesSchema.optional(),
});
/** One workflow of the result document (after `forEach` expansion: `orders[eu]`), with its steps. */
export type WorkflowResult = z.infer<typeof workflowResultSchema>;

export const stageResultSchema = z.object({
  name: z.string(),
  status: z.enum(StageStatuses),
  workflows: z.array(z.string()),
});
/** One stage of the result document and the names of its workflows. */
export type StageResult = z.infer<typeof stageResultSchema>;

/**
 * The release train a barrier joins (issue 14), as the pipeline knows it: what it expects and,
 * once the train answered, how the train run it joined resolved. While the pipeline waits, the
 * client fills in the train's live `arrivals`, `missing` and `deadline` from the train workflow.
 */
export const barrierTrainSchema = z.object({
  name: z.string(),
  /** The train's Temporal workflow ID, `convoy-train/<name>/<identifier>`. */
  workflowId: z.string(),
  /** The Temporal run ID of the train run this pipeline joined; absent until the train answered. */
  runId: z.string().optional(),
  expect: z.array(z.string()),
  /** `standing` until the train answered; then the train run's status. */
  status: z.enum(BarrierStatuses),
  /** Pipeline name → when it arrived at the train. */
  arrivals: z.record(z.string(), z.string()),
  /** Expected pipelines that have not arrived (live, or when the train timed out). */
  missing: z.array(z.string()).optional(),
  deadline: z.string().optional(),
  resolvedAt: z.string().optional(),
  reason: z.string().optional(),
});
/** The release train a barrier joins, in the result document. */
export type BarrierTrain = z.infer<typeof barrierTrainSchema>;

export const barrierResultSchema = z.object({
  stage: z.string(),
  identifier: z.string(),
  participants: z.array(z.string()),
  status: z.enum(BarrierStatuses),
  arrivals: z.record(z.string(), z.string()),
  /**
   * While it stands with someone waiting: when it times out (the earliest waiting participant's
   * arrival plus that participant's barrier timeout).
   */
  deadline: z.string().optional(),
  resolvedAt: z.string().optional(),
  reason: z.string().optional(),
  /** Present when the barrier is part of a release train. */
  train: barrierTrainSchema.optional(),
});
/** One barrier of the result document: who takes part, who arrived when, how it resolved. */
export type BarrierResult = z.infer<typeof barrierResultSchema>;

export const pipelineResultSchema = z.object({
  pipelineId: z.string(),
  name: z.string().optional(),
  status: z.enum(PipelineStatuses),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  stages: z.array(stageResultSchema),
  workflows: z.array(workflowResultSchema),
  barriers: z.array(barrierResultSchema),
  rejectedMessages: rejectedMessagesSchema.optional(),
});
/**
 * The result document of SPEC section 5: what `convoy run --json` and `convoy status --json` print.
 * While the pipeline runs it is its live state; ended fields are absent until they end.
 */
export type PipelineResult = z.infer<typeof pipelineResultSchema>;

/** A child pipeline's document, nested in the result of the step that ran it. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the name breaks the type recursion
export interface ChildPipelineResult extends PipelineResult {}

/** Formats epoch milliseconds the way every timestamp in the document is written. */
export function isoMs(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/**
 * A release train run's document: what the train workflow's `convoy.trainStatus` query returns
 * and `convoy train status NAME IDENTIFIER --json` prints.
 */
export const trainStatusSchema = z.object({
  train: z.string(),
  identifier: z.string(),
  workflowId: z.string(),
  /** The Temporal run ID: each run of a train (one crossing) has its own. */
  runId: z.string(),
  startedAt: z.string(),
  status: z.enum(BarrierStatuses),
  expect: z.array(z.string()),
  /** Pipeline name → when it arrived at the train. */
  arrivals: z.record(z.string(), z.string()),
  /** Pipeline name → the pipeline ID (Temporal workflow ID) that arrived under that name. */
  pipelines: z.record(z.string(), z.string()),
  /** Expected pipelines that have not arrived. */
  missing: z.array(z.string()),
  deadline: z.string().optional(),
  resolvedAt: z.string().optional(),
  reason: z.string().optional(),
  rejectedMessages: rejectedMessagesSchema.optional(),
});
/** A release train run's document (`convoy train status`). */
export type TrainStatus = z.infer<typeof trainStatusSchema>;
