/** How the workflow reads Temporal's attempt number back from a failed step activity. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/common';
import { temporalAttemptOf } from '../../../src/workflows/steps';

const activityFailure = (retryState: ActivityFailure['retryState'], cause: Error) =>
  new ActivityFailure('activity failed', 'runShell', '5', retryState, 'worker-1', cause);

describe('temporalAttemptOf', () => {
  it('reads the attempt the activity reported in its failure details', () => {
    const cause = ApplicationFailure.create({
      type: 'step-failed',
      nonRetryable: true,
      details: [{ exitCode: 3, stdoutTail: '', stderrTail: '', attempt: 2 }],
    });
    expect(temporalAttemptOf(activityFailure('NON_RETRYABLE_FAILURE', cause))).toBe(2);
  });

  it('is the retry maximum when every attempt lost its worker', () => {
    const cause = new TimeoutFailure('activity Heartbeat timeout', undefined, 'HEARTBEAT');
    expect(temporalAttemptOf(activityFailure('MAXIMUM_ATTEMPTS_REACHED', cause))).toBe(5);
  });

  it('is unknown for a first attempt or anything else', () => {
    const cause = ApplicationFailure.create({ type: 'step-failed', nonRetryable: true, details: [{}] });
    expect(temporalAttemptOf(activityFailure('NON_RETRYABLE_FAILURE', cause))).toBeUndefined();
    expect(temporalAttemptOf(new Error('not an activity failure'))).toBeUndefined();
  });
});
