/**
 * How many events a pipeline run writes to the pipeline workflow's history, predicted from the
 * plan. Temporal warns at 10,240 events and terminates a workflow at 51,200, so `convoy
 * validate` warns before a pipeline gets near.
 *
 * Counted per kind of message, as the parent's history records them (the benchmark checks the
 * prediction against real runs). It is an upper bound: it assumes every message the parent gets
 * runs its own workflow task, as happens when steps take different times; when arrivals come in
 * bursts the server batches them into fewer tasks and the history stays shorter.
 */
import type { StagePlan } from '../model/plan';

/** Events of one parent workflow task: scheduled, started, completed. */
const WORKFLOW_TASK = 3;

/** The parts of a prediction, each a number of events. */
export interface HistoryBudget {
  /** Start, first and last workflow tasks, completion, and the final `ConvoyStatus` upsert. */
  readonly fixed: number;
  /** Child start initiated, started, ended, and a workflow task for each of the last two. */
  readonly perWorkflow: number;
  /** Arrival signal, its workflow task, outcome signal initiated and delivered. */
  readonly perArrival: number;
  /** Withdrawal signal (a barrier step skipped by `when`) and its workflow task. */
  readonly perWithdrawal: number;
  /**
   * The deadline timer (started, fired or cancelled) and two search-attribute upserts (a first
   * workflow waits there; it resolves), when the namespace has Convoy's search attributes.
   */
  readonly perBarrier: number;
}

export const HISTORY_BUDGET: HistoryBudget = {
  fixed: 2 + 2 * WORKFLOW_TASK + 1,
  perWorkflow: 3 + 2 * WORKFLOW_TASK,
  perArrival: 1 + WORKFLOW_TASK + 2,
  perWithdrawal: 1 + WORKFLOW_TASK,
  perBarrier: 2 + 2,
};

/** Temporal's per-workflow history limits (events). */
export const HISTORY_WARN_EVENTS = 10_240;
export const HISTORY_LIMIT_EVENTS = 51_200;

/** What a plan's stages add up to. */
export interface HistoryPrediction {
  readonly workflows: number;
  readonly arrivals: number;
  readonly withdrawals: number;
  readonly barriers: number;
  /** Upper bound of the parent's history events for a run where everything succeeds. */
  readonly events: number;
}

/** Predicts the pipeline workflow's history length for a run in which every stage runs. */
export function predictParentHistoryEvents(
  stages: readonly StagePlan[],
  budget: HistoryBudget = HISTORY_BUDGET,
): HistoryPrediction {
  let workflows = 0;
  let arrivals = 0;
  let withdrawals = 0;
  let barriers = 0;
  for (const stage of stages) {
    barriers += stage.barriers.length;
    for (const workflow of stage.workflows) {
      workflows += 1;
      for (const step of workflow.steps) {
        // A branch's barrier step is one arrival (or, skipped with its group, one withdrawal).
        const visits =
          step.type === 'parallel'
            ? step.branches.flatMap((branch) =>
                branch.steps.map((inner) => ({ inner, groupSkip: step.skip })),
              )
            : [{ inner: step, groupSkip: false }];
        for (const { inner, groupSkip } of visits) {
          if (inner.type !== 'barrier') continue;
          if (inner.skip || groupSkip) withdrawals += 1;
          else arrivals += 1;
        }
      }
    }
  }
  const events =
    budget.fixed +
    workflows * budget.perWorkflow +
    arrivals * budget.perArrival +
    withdrawals * budget.perWithdrawal +
    barriers * budget.perBarrier;
  return { workflows, arrivals, withdrawals, barriers, events };
}
