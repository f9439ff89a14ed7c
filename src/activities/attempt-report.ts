/**
 * Tells the workflow how many times Temporal ran a step activity (see `AttemptReport`): the
 * workflow cannot see Temporal's re-runs after a lost worker, only the attempt that ended.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AttemptReport } from '../model/step-activities';

/**
 * Wraps a step activity so that, from Temporal's second attempt on, its result and its
 * `ApplicationFailure`'s `details[0]` carry `attempt`. A first attempt's are left as they are.
 */
export function withAttemptReport<I, R extends AttemptReport>(
  activity: (input: I) => Promise<R>,
): (input: I) => Promise<R> {
  return async function (input: I): Promise<R> {
    const { attempt } = Context.current().info;
    let result: R;
    try {
      result = await activity(input);
    } catch (error) {
      if (attempt > 1 && error instanceof ApplicationFailure) throw withAttempt(error, attempt);
      throw error;
    }
    return attempt > 1 ? { ...result, attempt } : result;
  };
}

/** The same failure, its first detail extended with the attempt number. */
function withAttempt(failure: ApplicationFailure, attempt: number): ApplicationFailure {
  const [first, ...rest] = failure.details ?? [];
  const report: AttemptReport = { attempt };
  const extended = ApplicationFailure.create({
    type: failure.type ?? undefined,
    message: failure.message,
    nonRetryable: failure.nonRetryable ?? undefined,
    nextRetryDelay: failure.nextRetryDelay ?? undefined,
    category: failure.category ?? undefined,
    details: [typeof first === 'object' && first !== null ? { ...first, ...report } : report, ...rest],
    cause: failure.cause,
  });
  extended.stack = failure.stack;
  return extended;
}
