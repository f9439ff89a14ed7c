/**
 * What both workflows do when they end and with the search attributes on the way: the decisions
 * are src/model's (outcome.ts, visibility.ts); this file issues the Temporal commands.
 */
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  type SearchAttributePair,
  type SearchAttributeUpdatePair,
} from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { isResultFailureType, type ClosingOutcome } from '../model/outcome';
import { ConvoySearchAttributes, sameVisibility, type PipelineVisibility } from '../model/visibility';
import { Patches } from './patches';

const pipelineKey = defineSearchAttributeKey(
  ConvoySearchAttributes.pipeline.name,
  SearchAttributeType.KEYWORD,
);
const statusKey = defineSearchAttributeKey(ConvoySearchAttributes.status.name, SearchAttributeType.KEYWORD);
const waitingBarriersKey = defineSearchAttributeKey(
  ConvoySearchAttributes.waitingBarriers.name,
  SearchAttributeType.KEYWORD_LIST,
);

/**
 * Ends a workflow with its document: returns it when the outcome is to complete, throws the
 * failure that carries it otherwise. Workflows started before the change complete either way.
 */
export function close<T>(document: T, outcome: ClosingOutcome): T {
  if (outcome.kind === 'complete' || !patched(Patches.failUnsuccessfulResult)) return document;
  throw ApplicationFailure.create({
    type: outcome.type,
    message: outcome.message,
    nonRetryable: true,
    details: [document],
  });
}

/**
 * The document a child workflow ended with, when it failed with one (see {@link close});
 * `undefined` for any other failure (terminated, timed out, a bug).
 */
export function documentOfFailedChild(error: unknown): unknown {
  if (!(error instanceof ChildWorkflowFailure)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || !isResultFailureType(cause.type)) return undefined;
  return cause.details?.[0];
}

/** The search attributes a child starts with: the pipeline's name and `running`. */
export function initialSearchAttributes(pipelineName: string): SearchAttributePair[] {
  return [
    { key: pipelineKey, value: pipelineName },
    { key: statusKey, value: 'running' },
  ];
}

/**
 * Keeps `ConvoyStatus` and `ConvoyWaitingBarriers` current, upserting only what changed (each
 * upsert is a history event). Does nothing when the namespace lacks the attributes: upserting
 * an unregistered one would fail every workflow task. The visibility comes as a function, called
 * only when enabled: building it means building the workflow's document, on every barrier
 * arrival and departure.
 */
export function visibilityUpdater(
  enabled: boolean,
  initial: PipelineVisibility = { status: 'running', waitingBarriers: [] },
): (visibility: () => PipelineVisibility) => void {
  let shown = initial;
  return (visibility) => {
    if (!enabled) return;
    const next = visibility();
    if (sameVisibility(shown, next)) return;
    const pairs: SearchAttributeUpdatePair[] = [];
    if (next.status !== shown.status) pairs.push({ key: statusKey, value: next.status });
    if (JSON.stringify(next.waitingBarriers) !== JSON.stringify(shown.waitingBarriers))
      pairs.push({
        key: waitingBarriersKey,
        value: next.waitingBarriers.length > 0 ? [...next.waitingBarriers] : null,
      });
    shown = next;
    upsertSearchAttributes(pairs);
  };
}
