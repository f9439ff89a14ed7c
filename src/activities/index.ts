/**
 * Convoy's activities: the step executors the worker registers.
 *
 * Worker side:
 * ```ts
 * Worker.create({
 *   taskQueue, workflowsPath, activities: createActivities(),
 *   // A cancellation reaches a running step only in the reply to a heartbeat the worker sends to
 *   // the server, and by default the worker sends them at most every 0.8 x heartbeatTimeout
 *   // (24 s for 30 s): an aborted deploy script would keep running that long.
 *   maxHeartbeatThrottleInterval: '1s',
 * });
 * ```
 * Workflow side (the contract lives in src/model, so no Node code enters the workflow bundle):
 * ```ts
 * import type { StepActivities } from '../model/step-activities';
 * const { runShell } = proxyActivities<StepActivities>({
 *   startToCloseTimeout: step.timeoutMs + ACTIVITY_TIMEOUT_MARGIN_MS, // from '../model/step-activities'
 *   heartbeatTimeout: '5s', // how soon a lost worker is noticed (see src/workflows/steps.ts)
 *   retry: { maximumAttempts: 5 }, // only lost workers: step failures are non-retryable
 * });
 * ```
 * Failures are non-retryable `ApplicationFailure`s typed with {@link ActivityErrorTypes};
 * a cancelled activity ends with Temporal's `CancelledFailure`.
 */
import type { ActivityTuning, StepActivities } from '../model/step-activities';
import { withAttemptReport } from './attempt-report';
import { withEarlyAbandon } from './early-abandon';
import { createHttpActivity, type RunHttp } from './http';
import { createShellActivity, type RunShell } from './shell';
import { joinTrain, verifyTrainMember } from './train';
import type { TrainActivities } from '../model/train/link';

export * from '../model/step-activities';
export { createHttpActivity, runHttp, type RunHttp } from './http';
export { createShellActivity, runShell, type RunShell } from './shell';

/** The activities a Convoy worker registers: the {@link StepActivities} contract, implemented. */
export interface ConvoyActivities extends StepActivities, TrainActivities {
  runShell: RunShell;
  runHttp: RunHttp;
}

/**
 * Builds the activities object for `Worker.create({ activities })`.
 *
 * @param tuning overrides of `ACTIVITY_DEFAULTS`; leave empty in production
 */
export function createActivities(tuning: Partial<ActivityTuning> = {}): ConvoyActivities {
  return {
    runShell: withAttemptReport(withEarlyAbandon(createShellActivity(tuning))),
    runHttp: withAttemptReport(withEarlyAbandon(createHttpActivity(tuning))),
    // Release trains (issue 14): the pipeline's arrival and the train's question to a pipeline.
    joinTrain,
    verifyTrainMember,
  };
}

/** The activities with production settings. */
export const activities: ConvoyActivities = createActivities();
