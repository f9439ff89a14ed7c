/**
 * Running one attempt of a shell, http or wait step from workflow code: the activity options and
 * how a step's outcome or failure is read back. Barrier steps are the deployment workflow's own
 * (they talk to the coordinator).
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  sleep,
} from '@temporalio/workflow';
import type { RollbackStepPlan, StepPlan } from '../model/plan';
import type { StepError, StepResult } from '../model/result';
import {
  ACTIVITY_TIMEOUT_MARGIN_MS,
  type AttemptReport,
  type EarlyAbandon,
  type StepActivities,
} from '../model/step-activities';
import { countWorkerRestarts } from '../model/workflow-run';
import { Patches } from './patches';

/** A shell or http step without timeoutMs may run this long. */
const DEFAULT_STEP_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/**
 * How long a running step may go without a heartbeat before Temporal takes its worker for lost
 * and runs the step again elsewhere. Step activities heartbeat every second (the worker sends
 * them at most every second, `maxHeartbeatThrottleInterval`); see README, "Shell steps and lost
 * workers", for the measurements behind the figure.
 */
export const STEP_HEARTBEAT_TIMEOUT_MS = 5_000;

/** How many times Temporal runs a step's activity in all, when its workers keep being lost. */
const STEP_ACTIVITY_MAX_ATTEMPTS = 5;

/**
 * The activities for one step. The activity enforces the step's own timeout (so the error type is
 * `step-timeout`); Temporal's timeout is a margin later. Convoy waits for a cancelled step to be
 * killed.
 */
function stepActivities(step: { timeoutMs?: number }, summary: string) {
  return proxyActivities<StepActivities>({
    summary,
    startToCloseTimeout: (step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS) + ACTIVITY_TIMEOUT_MARGIN_MS,
    heartbeatTimeout: STEP_HEARTBEAT_TIMEOUT_MS,
    // Failure strategies decide about retrying a step that failed (its failures are
    // non-retryable); Temporal retries only what is not the step's fault: a worker that shut
    // down (a Kubernetes rollout) or died (heartbeat timeout). The step then runs again on
    // another worker.
    retry: {
      maximumAttempts: STEP_ACTIVITY_MAX_ATTEMPTS,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
    },
    // Pipelines started before this change reported a cancelled step at once, while its
    // process group was still being killed; they keep doing so when replayed.
    cancellationType: patched(Patches.waitForStepKill)
      ? ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
      : ActivityCancellationType.TRY_CANCEL,
  });
}

/**
 * Runs one attempt of a shell, http or wait step and records its output; throws an
 * ApplicationFailure whose type is a Convoy error type when the step fails.
 */
export async function runActivityStep(
  step: Exclude<StepPlan | RollbackStepPlan, { type: 'barrier' }>,
  record: StepResult,
  workflowName: string,
  earlyAbandon?: EarlyAbandon,
): Promise<void> {
  switch (step.type) {
    case 'shell': {
      const { runShell } = stepActivities(step, `shell step ${step.name}`);
      const output = await countingRestarts(record, runShell, {
        command: step.command,
        env: step.env,
        // References only: the activity reads the values on the worker (model/secrets.ts).
        secrets: step.secrets,
        timeoutMs: step.timeoutMs,
        workflowName,
        stepName: step.name,
        earlyAbandon,
      });
      record.output = {
        exitCode: output.exitCode,
        stdoutTail: output.stdoutTail,
        stderrTail: output.stderrTail,
      };
      return;
    }
    case 'http': {
      const { runHttp } = stepActivities(step, `http step ${step.name}: ${step.method} ${step.url}`);
      const output = await countingRestarts(record, runHttp, {
        method: step.method,
        url: step.url,
        headers: step.headers,
        body: step.body,
        expectStatus: step.expectStatus,
        secrets: step.secrets,
        timeoutMs: step.timeoutMs,
        workflowName,
        stepName: step.name,
        earlyAbandon,
      });
      record.output = { httpStatus: output.httpStatus };
      return;
    }
    case 'wait':
      await sleep(step.durationMs);
      return;
  }
}

/**
 * Calls a step activity and counts Temporal's re-runs of it (after lost workers) in the step's
 * record, whether it succeeds or fails.
 */
async function countingRestarts<I, R extends AttemptReport>(
  record: StepResult,
  activity: (input: I) => Promise<R>,
  input: I,
): Promise<R> {
  let output: R;
  try {
    output = await activity(input);
  } catch (error) {
    countWorkerRestarts(record, temporalAttemptOf(error));
    throw error;
  }
  countWorkerRestarts(record, output.attempt);
  return output;
}

/**
 * Temporal's attempt number of a step activity that failed: reported by the activity in its
 * failure's details, or, when every attempt lost its worker, the retry policy's maximum.
 * Undefined when it is not known (then it counts as one attempt).
 */
export function temporalAttemptOf(error: unknown): number | undefined {
  if (!(error instanceof ActivityFailure)) return undefined;
  if (error.cause instanceof ApplicationFailure) {
    const details = error.cause.details?.[0] as AttemptReport | undefined;
    if (typeof details?.attempt === 'number') return details.attempt;
  }
  if (error.retryState === 'MAXIMUM_ATTEMPTS_REACHED') return STEP_ACTIVITY_MAX_ATTEMPTS;
  return undefined;
}

/** Maps whatever a step threw to a Convoy error type and message. */
export function describeFailure(error: unknown): StepError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) {
    return { type: cause.type, message: cause.message };
  }
  if (error instanceof ActivityFailure) {
    // Temporal's own timeouts (a worker lost mid-step) and other infrastructure failures.
    return { type: 'step-failed', message: cause instanceof Error ? cause.message : error.message };
  }
  return { type: 'step-failed', message: error instanceof Error ? error.message : String(error) };
}
