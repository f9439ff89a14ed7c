/**
 * Convoy's custom search attributes (SPEC section 5, "In the Temporal Web UI"): what the
 * workflows keep current so that a Web UI or `temporal workflow list` query finds, say, every
 * pipeline waiting at a barrier. The attributes must be registered on the namespace; the starter
 * tells the workflows whether they are (an upsert of an unknown attribute fails the workflow task).
 *
 * Pure module (workflow code imports it).
 */
import { splitParticipant } from './participants';
import type { PipelineResult, WorkflowResult } from './result';

/** The attributes, their Temporal types (as `temporal operator search-attribute create` spells them). */
export const ConvoySearchAttributes = {
  /** The pipeline's `name`, on the pipeline workflow and on each of its children. */
  pipeline: { name: 'ConvoyPipeline', type: 'KEYWORD', cliType: 'Keyword' },
  /** {@link pipelineConvoyStatus} or {@link workflowConvoyStatus}. */
  status: { name: 'ConvoyStatus', type: 'KEYWORD', cliType: 'Keyword' },
  /** Identifiers of the barriers where some workflow waits now. */
  waitingBarriers: { name: 'ConvoyWaitingBarriers', type: 'KEYWORD_LIST', cliType: 'KeywordList' },
} as const;

/** What the pipeline workflow shows through its search attributes. */
export interface PipelineVisibility {
  /** `running`, `waiting-at-barrier`, `waiting-for-intervention`, then `succeeded`, `failed` or `aborted`. */
  readonly status: string;
  /** Identifiers of the standing barriers at which a workflow waits, sorted, without repeats. */
  readonly waitingBarriers: readonly string[];
}

/**
 * A pipeline's `ConvoyStatus`: its document's status, refined while it runs by what its
 * workflows wait for. An operator's decision is the more urgent wait, so it wins.
 */
export function pipelineVisibility(doc: PipelineResult): PipelineVisibility {
  const statusOf = new Map(doc.workflows.map((wf) => [wf.name, wf.status]));
  const waitingBarriers = [
    ...new Set(
      doc.barriers
        .filter(
          (b) =>
            b.status === 'standing' &&
            Object.keys(b.arrivals).some(
              (p) => statusOf.get(splitParticipant(p).workflow) === 'waiting-at-barrier',
            ),
        )
        .map((b) => b.identifier),
    ),
  ].sort();
  if (doc.status !== 'running') return { status: doc.status, waitingBarriers: [] };
  const statuses = new Set(statusOf.values());
  const status = statuses.has('waiting-for-intervention')
    ? 'waiting-for-intervention'
    : waitingBarriers.length > 0
      ? 'waiting-at-barrier'
      : 'running';
  return { status, waitingBarriers };
}

/** A deployment workflow's `ConvoyStatus`: its entry's status, and the barrier it waits at, if any. */
export function workflowVisibility(
  result: WorkflowResult,
  waitingAt: string | readonly string[] = [],
): PipelineVisibility {
  const barriers = typeof waitingAt === 'string' ? [waitingAt] : waitingAt;
  return {
    status: result.status,
    waitingBarriers: result.status === 'waiting-at-barrier' ? [...barriers] : [],
  };
}

/**
 * What a child shows since barrier waits are shown on the pipeline only (children started with
 * `barrierWaitsOnPipeline` in their input): a child waiting at a barrier reads `running` with no
 * waiting barriers. Mirroring the wait on every participant cost two upserts (two visibility
 * writes) per participant per barrier, the second of them while the release fans out: the
 * benchmark measured releases 1.4-1.55x the same-size floor at 50 and 200 participants with
 * them and 1.06-1.08x without. The pipeline still shows `waiting-at-barrier` and the barriers,
 * and its document says which workflow waits where.
 */
export function childVisibility(result: WorkflowResult): PipelineVisibility {
  const status = result.status === 'waiting-at-barrier' ? 'running' : result.status;
  return { status, waitingBarriers: [] };
}

/** True when two visibilities would upsert the same values (an unchanged upsert costs a history event). */
export function sameVisibility(a: PipelineVisibility | undefined, b: PipelineVisibility): boolean {
  return (
    a !== undefined &&
    a.status === b.status &&
    a.waitingBarriers.length === b.waitingBarriers.length &&
    a.waitingBarriers.every((id, i) => id === b.waitingBarriers[i])
  );
}
