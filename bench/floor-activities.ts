/** The floor's one activity (bench/floor-workflows.ts): a step that fails, for failure propagation. */
import { ApplicationFailure } from '@temporalio/common';

/** Fails at once and for good, as a Convoy step whose failure strategy aborts. */
export async function rawFailingStep(): Promise<void> {
  throw ApplicationFailure.nonRetryable('raw step failed', 'step-failed');
}
