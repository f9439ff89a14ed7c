/**
 * Lets a failing step tell the pipeline workflow that its workflow is giving up, before the
 * failure travels back through its own workflow (see `earlyAbandonSchema` in ./contract).
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { earlyAbandonSchema, type EarlyAbandon } from '../model/step-activities';

/** The signal the pipeline workflow listens to (src/workflows/protocol.ts defines it). */
const ABANDON_SIGNAL = 'convoy.workflowAbandon';

/** The reason text, the same the deployment workflow sends for the same failure. */
export function abandonReason(
  workflowName: string,
  stepName: string,
  message: string,
  action: string,
): string {
  return `${workflowName} failed at step ${stepName}: ${message} (action: ${action})`;
}

/** Wraps a step activity so that a terminal failure is announced to the coordinator first. */
export function withEarlyAbandon<
  I extends { workflowName: string; stepName: string; earlyAbandon?: EarlyAbandon },
  R,
>(activity: (input: I) => Promise<R>): (input: I) => Promise<R> {
  return async function (input: I): Promise<R> {
    try {
      return await activity(input);
    } catch (error) {
      const notice = earlyAbandonSchema.safeParse(input.earlyAbandon);
      if (notice.success && error instanceof ApplicationFailure) {
        const action =
          error.type === 'step-failed' || error.type === 'step-timeout'
            ? notice.data.actions[error.type]
            : undefined;
        if (action) {
          try {
            await Context.current()
              .client.workflow.getHandle(notice.data.coordinatorId)
              .signal(ABANDON_SIGNAL, {
                workflow: input.workflowName,
                reason: abandonReason(input.workflowName, input.stepName, error.message, action),
              });
          } catch (signalError) {
            // The workflow sends the same notice itself; this was only the fast path.
            log.warn('could not tell the pipeline workflow early', { error: String(signalError) });
          }
        }
      }
      throw error;
    }
  };
}
