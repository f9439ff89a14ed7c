/**
 * How a Convoy result becomes a Temporal close status (SPEC section 5, "In the Temporal Web UI").
 * A pipeline or workflow that succeeded completes with its document as the result; one that
 * failed, was aborted or rolled back fails, with a stable failure type and its document as the
 * failure's only detail, so that the Web UI's list, badge and Failures filter agree with Convoy
 * while clients still read the whole document from either outcome.
 *
 * Pure module (workflow code imports it).
 */
import type { PipelineResult, WorkflowResult } from './result';

/** The failure types of a Convoy workflow that ended without succeeding; each carries its document. */
export const ResultFailureTypes = {
  pipelineFailed: 'ConvoyPipelineFailed',
  pipelineAborted: 'ConvoyPipelineAborted',
  workflowFailed: 'ConvoyWorkflowFailed',
  workflowAborted: 'ConvoyWorkflowAborted',
  workflowRolledBack: 'ConvoyWorkflowRolledBack',
} as const;
export type ResultFailureType = (typeof ResultFailureTypes)[keyof typeof ResultFailureTypes];

const RESULT_FAILURE_TYPES: ReadonlySet<string> = new Set(Object.values(ResultFailureTypes));

/** True when a Temporal failure of this type carries a Convoy document in its details. */
export function isResultFailureType(type: string | null | undefined): type is ResultFailureType {
  return typeof type === 'string' && RESULT_FAILURE_TYPES.has(type);
}

/** How a workflow closes: with its document as the result, or failed with it as the detail. */
export type ClosingOutcome =
  | { readonly kind: 'complete' }
  | { readonly kind: 'fail'; readonly type: ResultFailureType; readonly message: string };

const COMPLETE: ClosingOutcome = { kind: 'complete' };

/** At most this many workflows are named in a failure message; the rest are counted. */
const MAX_NAMED = 5;

/** How the pipeline workflow closes, given its final document. */
export function pipelineOutcome(doc: PipelineResult): ClosingOutcome {
  const subject = `pipeline ${doc.name ?? doc.pipelineId}`;
  switch (doc.status) {
    case 'succeeded':
    case 'running':
      return COMPLETE;
    case 'aborted':
      return { kind: 'fail', type: ResultFailureTypes.pipelineAborted, message: `${subject} was aborted` };
    case 'failed': {
      const unsuccessful = doc.workflows.filter(
        (wf) => wf.status !== 'succeeded' && wf.status !== 'not-started',
      );
      const named = unsuccessful.slice(0, MAX_NAMED).map((wf) => `${wf.name} ${wf.status}`);
      if (unsuccessful.length > MAX_NAMED) named.push(`${unsuccessful.length - MAX_NAMED} more`);
      return {
        kind: 'fail',
        type: ResultFailureTypes.pipelineFailed,
        message: named.length > 0 ? `${subject} failed: ${named.join(', ')}` : `${subject} failed`,
      };
    }
    // Only read from history after Temporal ended the pipeline; the workflow never ends so itself.
    case 'terminated':
    case 'timed-out':
      return { kind: 'fail', type: ResultFailureTypes.pipelineFailed, message: `${subject} ${doc.status}` };
  }
}

/** How a deployment workflow (a pipeline's child) closes, given its final entry of the document. */
export function workflowOutcome(result: WorkflowResult): ClosingOutcome {
  const subject = `workflow ${result.name} (stage ${result.stage})`;
  const failedStep = [...result.steps].reverse().find((s) => s.status === 'failed' && s.error);
  const why = failedStep?.error ? `: step ${failedStep.name}: ${failedStep.error.message}` : '';
  switch (result.status) {
    case 'failed':
      return { kind: 'fail', type: ResultFailureTypes.workflowFailed, message: `${subject} failed${why}` };
    case 'aborted':
      return { kind: 'fail', type: ResultFailureTypes.workflowAborted, message: `${subject} aborted${why}` };
    case 'rolled-back':
      return {
        kind: 'fail',
        type: ResultFailureTypes.workflowRolledBack,
        message: `${subject} rolled back${why}`,
      };
    default:
      return COMPLETE;
  }
}
