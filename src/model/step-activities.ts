/**
 * What the step-executor activities accept, return and fail with: the contract between the
 * workflows (which schedule the activities) and the worker (which runs them).
 *
 * Pure module: zod, the plan contract and the message schemas only, no Node built-ins, so
 * workflow code may import it (for the types, the error-type constants and the timing constants)
 * without pulling `child_process` into the workflow bundle.
 */
import { z } from 'zod';
import { ErrorTypes, httpStepPlanSchema, shellStepPlanSchema } from './plan';
import { capabilitySchema } from './protocol';

/**
 * The `ApplicationFailure.type` values the activities throw. They are the step error types of
 * SPEC section 4, reused from the plan so failure-strategy rules match them without a mapping.
 * Every such failure is non-retryable: Convoy retries through failure strategies, not Temporal.
 *
 * Cancellation is not in this list: a cancelled activity rethrows Temporal's own
 * `CancelledFailure`, so the workflow sees an ordinary activity cancellation.
 */
export const ActivityErrorTypes = {
  /** Non-zero exit, unexpected HTTP status, connection error, invalid input, spawn error. */
  stepFailed: ErrorTypes.stepFailed,
  /** The step's own `timeoutMs` elapsed; for shell steps the process group has been killed. */
  stepTimeout: ErrorTypes.stepTimeout,
} as const;
export type ActivityErrorType = (typeof ActivityErrorTypes)[keyof typeof ActivityErrorTypes];

/** Defaults for {@link ActivityTuning}. */
export const ACTIVITY_DEFAULTS = {
  /** How often a running step heartbeats. Cancellation only reaches an activity that heartbeats. */
  heartbeatIntervalMs: 1_000,
  /** How long a process group gets between SIGTERM and SIGKILL. */
  killGraceMs: 2_000,
  /** How many bytes of stdout, stderr or an HTTP body are kept (the tail). */
  tailBytes: 4_096,
} as const;

/** Knobs for the activities; production uses {@link ACTIVITY_DEFAULTS}, tests shorten them. */
export interface ActivityTuning {
  heartbeatIntervalMs: number;
  killGraceMs: number;
  tailBytes: number;
}

/**
 * The extra time a workflow should add to a step's `timeoutMs` for the activity's
 * `startToCloseTimeout`. The activity enforces `timeoutMs` itself (so the error type is
 * `step-timeout`), then may spend up to the kill grace plus a little cleanup before it throws;
 * Temporal's own timeout must not fire first, or the workflow would see a Temporal
 * `TimeoutFailure` instead of `step-timeout`.
 */
export const ACTIVITY_TIMEOUT_MARGIN_MS = 10_000;

/**
 * Set by the workflow when a failure of this attempt is already known to be terminal (its
 * failure strategy resolves to abort or rollback for that error type): the activity then tells
 * the pipeline workflow itself, before it reports the failure, so peers waiting at barriers
 * learn of it one workflow task sooner. The workflow still sends its own (idempotent) notice.
 */
export const earlyAbandonSchema = z.object({
  coordinatorId: z.string().min(1),
  /** Error type → the terminal action its failure strategy resolves to. */
  actions: z.partialRecord(z.enum(['step-failed', 'step-timeout']), z.enum(['abort', 'rollback'])),
  /** The pipeline's capability, which the notice must carry to be believed (absent for older pipelines). */
  capability: capabilitySchema.optional(),
  /** The step runs in this branch of a parallel step: the branch, not the workflow, gives up. */
  branch: z.string().min(1).max(300).optional(),
});
export type EarlyAbandon = z.infer<typeof earlyAbandonSchema>;

/** The step and workflow a call is for; used in every error message. */
const stepIdentity = {
  workflowName: z.string().min(1),
  stepName: z.string().min(1),
  earlyAbandon: earlyAbandonSchema.optional(),
};

/**
 * Input of `runShell`. Built from the plan's shell step so the two cannot drift apart.
 * Fields the activity does not use (for example a whole step plan spread into the call) are
 * stripped, not rejected.
 */
export const shellActivityInputSchema = shellStepPlanSchema
  .pick({ command: true, env: true, timeoutMs: true, secrets: true })
  .extend({
    ...stepIdentity,
    /** Working directory of the process; the worker's own when absent. */
    cwd: z.string().min(1).optional(),
  });
export type ShellActivityInput = z.input<typeof shellActivityInputSchema>;

/**
 * Added to a step activity's result, and to its failure's `details[0]`, when Temporal ran the
 * activity more than once: an earlier attempt lost its worker (it died, or shut down mid-step).
 * Absent on a first attempt.
 */
export interface AttemptReport {
  /** Temporal's attempt number, 2 or more. */
  attempt?: number;
}

/** What `runShell` returns on exit code 0; the same shape as `StepResult.output` for shell steps. */
export interface ShellActivityResult extends AttemptReport {
  exitCode: 0;
  /** The last {@link ActivityTuning.tailBytes} bytes of stdout, decoded as UTF-8. */
  stdoutTail: string;
  /** The last {@link ActivityTuning.tailBytes} bytes of stderr, decoded as UTF-8. */
  stderrTail: string;
}

/**
 * `details[0]` of a shell step's `step-failed` or `step-timeout` failure. `exitCode` is null when
 * the process did not exit by itself (killed by a signal, timed out, or never started).
 */
export interface ShellFailureDetails extends AttemptReport {
  exitCode: number | null;
  stdoutTail: string;
  stderrTail: string;
}

/** Input of `runHttp`, built from the plan's http step. */
export const httpActivityInputSchema = httpStepPlanSchema
  .pick({
    method: true,
    url: true,
    headers: true,
    body: true,
    expectStatus: true,
    timeoutMs: true,
    secrets: true,
  })
  .extend(stepIdentity);
export type HttpActivityInput = z.input<typeof httpActivityInputSchema>;

/** What `runHttp` returns when the status is one of `expectStatus`. */
export interface HttpActivityResult extends AttemptReport {
  httpStatus: number;
  /** The last {@link ActivityTuning.tailBytes} bytes of the response body, decoded as UTF-8. */
  bodyTail: string;
}

/**
 * `details[0]` of an http step's failure. Both fields are absent when no response arrived
 * (connection error, timeout before the headers).
 */
export interface HttpFailureDetails extends AttemptReport {
  httpStatus?: number;
  bodyTail?: string;
}

/**
 * The step activities a Convoy worker registers, as workflows see them: their keys are the
 * Temporal activity type names. Workflows type `proxyActivities` with this, so they need no
 * import from the activities' Node code.
 */
export interface StepActivities {
  /** Runs a `shell` step. */
  runShell(input: ShellActivityInput): Promise<ShellActivityResult>;
  /** Runs an `http` step. */
  runHttp(input: HttpActivityInput): Promise<HttpActivityResult>;
}
