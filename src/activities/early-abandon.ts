/**
 * Lets a failing step tell the pipeline workflow that its workflow is giving up, before the
 * failure travels back through its own workflow (see `earlyAbandonSchema` in ./contract).
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { abandonReason } from '../model/failure-policy';
import { joinParticipant } from '../model/participants';
import { workflowAbandonSignal } from '../model/protocol';
import { earlyAbandonSchema, type EarlyAbandon } from '../model/step-activities';

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
              .signal(workflowAbandonSignal, {
                workflow: input.workflowName,
                ...(notice.data.branch === undefined ? {} : { branch: notice.data.branch }),
                reason: abandonReason(
                  joinParticipant(input.workflowName, notice.data.branch),
                  input.stepName,
                  error.message,
                  action,
                ),
                ...(notice.data.capability === undefined ? {} : { capability: notice.data.capability }),
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
