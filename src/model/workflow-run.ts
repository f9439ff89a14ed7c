/**
 * The state of one deployment workflow run: its status, its steps' records, the barrier outcomes
 * the coordinator sent and an operator's pending decision. The deployment workflow keeps one
 * instance and only moves messages and timers in and out of it.
 *
 * Pure module (no clock: times are passed in as epoch milliseconds), so workflow code may use it.
 */
import type { FailureRule, StepPlan, WorkflowPlan } from './plan';
import {
  failureContextOf,
  terminalActionsFor,
  type FailureContext,
  type StepErrorType,
  type TerminalAction,
} from './failure-policy';
import type { BarrierErrorType } from './barrier';
import type { BarrierOutcomeMessage, InterventionDecision } from './protocol';
import {
  isoMs,
  type InterventionWait,
  type StepError,
  type StepResult,
  type WorkflowResult,
  type WorkflowStatus,
} from './result';

/** How long a child waits past a barrier's timeout for the coordinator before giving up on it. */
export const COORDINATOR_GRACE_MS = 60_000;

/** How a barrier step ends: released, or failing with a barrier error type and a message. */
export type BarrierVerdict =
  | { readonly released: true }
  | { readonly released: false; readonly errorType: BarrierErrorType; readonly message: string };

/**
 * Counts Temporal's re-runs of a step's activity in its record: `attempt` is Temporal's attempt
 * number of the attempt that ended (undefined or 1 when the activity ran once). Each re-run is an
 * attempt of the step, and one after a lost worker.
 */
export function countWorkerRestarts(record: StepResult, attempt: number | undefined): void {
  const restarts = (attempt ?? 1) - 1;
  if (restarts <= 0) return;
  record.attempts += restarts;
  record.workerRestarts = (record.workerRestarts ?? 0) + restarts;
}

export class WorkflowRun {
  status: WorkflowStatus = 'running';
  readonly steps: StepResult[] = [];
  private readonly outcomes = new Map<string, BarrierOutcomeMessage>();
  private decision: InterventionDecision['action'] | undefined;
  private intervention: InterventionWait | undefined;

  constructor(
    readonly plan: WorkflowPlan,
    private readonly pipelineRules: readonly FailureRule[],
  ) {}

  /** The workflow's entry of the result document. */
  result(): WorkflowResult {
    return {
      name: this.plan.name,
      stage: this.plan.stage,
      status: this.status,
      steps: this.steps,
      ...(this.intervention && { intervention: this.intervention }),
    };
  }

  /** Starts the record of a step (or rollback step) at `nowMs`. */
  startStep(step: { name: string; type: string }, nowMs: number, rollback = false): StepResult {
    const record: StepResult = {
      name: step.name,
      type: step.type,
      status: 'running',
      attempts: 0,
      startedAt: isoMs(nowMs),
      ...(rollback ? { rollback: true } : {}),
    };
    this.steps.push(record);
    return record;
  }

  /** Ends a step's record (or its current attempt) with `status` at `nowMs`. */
  finishStep(record: StepResult, status: StepResult['status'], nowMs: number, error?: StepError): void {
    record.status = status;
    record.endedAt = isoMs(nowMs);
    if (error) record.error = error;
    else delete record.error;
  }

  /** A skipped step starts and ends at the same moment. */
  skipStep(record: StepResult): void {
    record.status = 'skipped';
    record.endedAt = record.startedAt;
    delete record.error;
  }

  /** The pipeline was aborted: every step still running or waiting fails as cancelled. */
  abort(nowMs: number): void {
    this.status = 'aborted';
    for (const record of this.steps) {
      if (record.status === 'running' || record.status === 'waiting') {
        this.finishStep(record, 'failed', nowMs, { type: 'cancelled', message: 'the pipeline was aborted' });
      }
    }
  }

  /** The rules that apply to a failure of `step`. */
  failureContext(step: StepPlan): FailureContext {
    return failureContextOf(step, this.plan, this.pipelineRules);
  }

  /**
   * The terminal actions a failure of this attempt of a shell or http step leads to straight away:
   * the activity then tells the coordinator itself, before the failure travels back here.
   */
  terminalActionsOf(step: StepPlan, retriesUsed: number): Partial<Record<StepErrorType, TerminalAction>> {
    if (step.type !== 'shell' && step.type !== 'http') return {};
    return terminalActionsFor(this.failureContext(step), retriesUsed);
  }

  /** Takes the coordinator's outcome for a barrier; the first one for a barrier is final. */
  takeOutcome(outcome: BarrierOutcomeMessage): void {
    if (!this.outcomes.has(outcome.identifier)) this.outcomes.set(outcome.identifier, outcome);
  }

  /** The coordinator's outcome for barrier `identifier`, once it came. */
  outcomeOf(identifier: string): BarrierOutcomeMessage | undefined {
    return this.outcomes.get(identifier);
  }

  /** The participant arrives at barrier `identifier` with its step's record, at `nowMs`. */
  arriveAtBarrier(record: StepResult, nowMs: number): void {
    record.startedAt = isoMs(nowMs);
    record.status = 'waiting';
    this.status = 'waiting-at-barrier';
  }

  /**
   * The barrier step's end: the coordinator's outcome when it came; otherwise the coordinator is
   * gone (`coordinatorGone`) or never answered within the barrier's timeout and the grace.
   */
  leaveBarrier(identifier: string, timeoutMs: number, coordinatorGone: boolean): BarrierVerdict {
    this.status = 'running';
    const outcome = this.outcomes.get(identifier);
    if (outcome?.kind === 'released') return { released: true };
    if (outcome)
      return { released: false, errorType: outcome.errorType ?? 'barrier-broken', message: outcome.message };
    return coordinatorGone
      ? {
          released: false,
          errorType: 'barrier-broken',
          message: `barrier ${identifier}: the pipeline workflow (coordinator) is gone`,
        }
      : {
          released: false,
          errorType: 'barrier-timeout',
          message: `barrier ${identifier}: the pipeline workflow (coordinator) did not answer within ${timeoutMs + COORDINATOR_GRACE_MS} ms`,
        };
  }

  /**
   * Starts waiting at `nowMs` for an operator's decision on `step`, for at most `timeoutMs`
   * (forever when undefined): any decision given before now is forgotten.
   */
  startWaitingForOperator(step: string, nowMs: number, timeoutMs: number | undefined): void {
    this.status = 'waiting-for-intervention';
    this.decision = undefined;
    this.intervention = {
      step,
      since: isoMs(nowMs),
      ...(timeoutMs !== undefined && { deadline: isoMs(nowMs + timeoutMs) }),
    };
  }

  /** An operator's decision counts only while the workflow waits for one. */
  takeDecision(action: InterventionDecision['action']): void {
    if (this.status === 'waiting-for-intervention') this.decision = action;
  }

  /** The decision given while waiting, if any. */
  get pendingDecision(): InterventionDecision['action'] | undefined {
    return this.decision;
  }

  /** Stops waiting for an operator; returns the decision given, if any. */
  stopWaitingForOperator(): InterventionDecision['action'] | undefined {
    const decision = this.decision;
    this.decision = undefined;
    this.intervention = undefined;
    this.status = 'running';
    return decision;
  }
}
