/**
 * The state of one deployment workflow run: its status, its steps' records, the barrier outcomes
 * the coordinator sent and an operator's pending decision. The deployment workflow keeps one
 * instance and only moves messages and timers in and out of it.
 *
 * Pure module (no clock: times are passed in as epoch milliseconds), so workflow code may use it.
 */
import { joinParticipant } from './participants';
import type { FailureRule, ParallelStepPlan, SequentialStepPlan, WorkflowPlan } from './plan';
import {
  failureContextOf,
  terminalActionsFor,
  type FailureContext,
  type StepErrorType,
  type TerminalAction,
} from './failure-policy';
import type { BarrierErrorType } from './barrier';
import { RejectedMessages, checkOutcome, claimedSender, type Refusal } from './message-checks';
import {
  interventionRequestSchema,
  parsePayload,
  type BarrierOutcomeMessage,
  type InterventionDecision,
  type InterventionRequest,
} from './protocol';
import {
  isoMs,
  type BranchResult,
  type InterventionWait,
  type StepError,
  type StepResult,
  type WorkflowResult,
  type WorkflowStatus,
} from './result';

/** The sender counted for refused messages that claim to come from the pipeline workflow. */
export const COORDINATOR_SENDER = '(pipeline workflow)';

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
  /** The coordinator's outcomes, by participant (the workflow or one of its branches) and barrier. */
  private readonly outcomes = new Map<string, BarrierOutcomeMessage>();
  /** The barriers the workflow's participants (itself, its branches) wait at now, one entry each. */
  private readonly waitingAt: string[] = [];
  /** The branch whose step waits for an operator, while it waits. */
  private waitingBranch: BranchResult | undefined;
  private decision: InterventionDecision['action'] | undefined;
  private intervention: InterventionWait | undefined;
  /** The step waiting for an operator, while it waits. */
  private waitingStep: string | undefined;
  /** How the last wait for an operator ended, for a decision that comes too late. */
  private lastWait: { readonly step: string; readonly decided: boolean } | undefined;
  private readonly rejectedMessages = new RejectedMessages();

  /**
   * @param capability the pipeline's capability, which the coordinator's outcomes must carry;
   *   undefined for a child of a pipeline started before capabilities existed.
   */
  constructor(
    readonly plan: WorkflowPlan,
    private readonly pipelineRules: readonly FailureRule[],
    readonly capability?: string,
  ) {}

  /** The workflow's entry of the result document. */
  result(): WorkflowResult {
    const rejectedMessages = this.rejectedMessages.summary();
    return {
      name: this.plan.name,
      stage: this.plan.stage,
      status: this.status,
      steps: this.steps,
      ...(this.intervention && { intervention: this.intervention }),
      ...(rejectedMessages ? { rejectedMessages } : {}),
    };
  }

  /**
   * Starts the record of a step (or rollback step) at `nowMs`, among the workflow's steps or, for a
   * step of a branch, among `branch`'s.
   */
  startStep(
    step: { name: string; type: string },
    nowMs: number,
    rollback = false,
    branch?: BranchResult,
  ): StepResult {
    const record: StepResult = {
      name: step.name,
      type: step.type,
      status: 'running',
      attempts: 0,
      startedAt: isoMs(nowMs),
      ...(rollback ? { rollback: true } : {}),
    };
    (branch?.steps ?? this.steps).push(record);
    return record;
  }

  /** A parallel step's branches start, each `running` (or `skipped` with the step): their records. */
  startBranches(record: StepResult, step: ParallelStepPlan): BranchResult[] {
    record.attempts = 1;
    record.branches = step.branches.map((branch) => ({
      name: branch.name,
      participant: joinParticipant(this.plan.name, branch.name),
      status: step.skip ? 'skipped' : 'running',
      steps: [],
    }));
    return record.branches;
  }

  /** A branch ends: `succeeded`, `failed` or `cancelled` (its running or waiting steps fail as cancelled). */
  endBranch(
    branch: BranchResult,
    status: 'succeeded' | 'failed' | 'cancelled',
    nowMs: number,
    why?: string,
  ): void {
    branch.status = status;
    if (status === 'cancelled') this.cancelSteps(branch.steps, nowMs, why ?? 'the branch was cancelled');
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
    this.cancelSteps(this.steps, nowMs, 'the pipeline was aborted');
  }

  /** Fails every running or waiting step of `records` as cancelled, branches included. */
  private cancelSteps(records: readonly StepResult[], nowMs: number, message: string): void {
    for (const record of records) {
      for (const branch of record.branches ?? []) {
        if (branch.status !== 'succeeded' && branch.status !== 'failed' && branch.status !== 'skipped')
          branch.status = 'cancelled';
        this.cancelSteps(branch.steps, nowMs, message);
      }
      if (record.status === 'running' || record.status === 'waiting') {
        this.finishStep(record, 'failed', nowMs, { type: 'cancelled', message });
      }
    }
  }

  /** The rules that apply to a failure of `step`. */
  failureContext(step: SequentialStepPlan): FailureContext {
    return failureContextOf(step, this.plan, this.pipelineRules);
  }

  /**
   * The terminal actions a failure of this attempt of a shell or http step leads to straight away:
   * the activity then tells the coordinator itself, before the failure travels back here.
   */
  terminalActionsOf(
    step: SequentialStepPlan,
    retriesUsed: number,
  ): Partial<Record<StepErrorType, TerminalAction>> {
    if (step.type !== 'shell' && step.type !== 'http') return {};
    return terminalActionsFor(this.failureContext(step), retriesUsed);
  }

  /**
   * Takes the coordinator's outcome for a barrier, if it carries the capability and names one of
   * this workflow's barriers; the first one for a barrier is final. Returns the refusal otherwise.
   */
  takeOutcome(outcome: BarrierOutcomeMessage): Refusal | undefined {
    const checked = checkOutcome(this.plan, this.capability, outcome);
    if (!checked.ok) return this.refuse('convoy.barrierOutcome', COORDINATOR_SENDER, checked.reason);
    const key = outcomeKey(outcome.identifier, outcome.branch);
    if (!this.outcomes.has(key)) this.outcomes.set(key, outcome);
    return undefined;
  }

  /** A signal whose payload does not parse (or that this workflow no longer takes): counted. */
  refuse(message: string, sender: string, reason: string): Refusal {
    return { message, sender, reason, log: this.rejectedMessages.record(sender) };
  }

  /** {@link refuse} for a payload that does not parse, by the sender it claims. */
  refuseMalformed(message: string, payload: unknown, reason: string): Refusal {
    return this.refuse(message, claimedSender(payload, COORDINATOR_SENDER), `malformed: ${reason}`);
  }

  /** The coordinator's outcome for barrier `identifier` of the workflow or its `branch`, once it came. */
  outcomeOf(identifier: string, branch?: string): BarrierOutcomeMessage | undefined {
    return this.outcomes.get(outcomeKey(identifier, branch));
  }

  /**
   * The participant (the workflow, or its `branch`) arrives at a barrier with its step's record, at
   * `nowMs`. The workflow waits at a barrier while any of its participants does.
   */
  arriveAtBarrier(record: StepResult, nowMs: number, identifier: string, branch?: BranchResult): void {
    record.startedAt = isoMs(nowMs);
    record.status = 'waiting';
    this.waitingAt.push(identifier);
    if (branch) branch.status = 'waiting-at-barrier';
    if (this.status === 'running') this.status = 'waiting-at-barrier';
  }

  /**
   * The barrier step's end: the coordinator's outcome when it came; otherwise the coordinator is
   * gone (`coordinatorGone`) or never answered within the barrier's timeout and the grace.
   */
  leaveBarrier(
    identifier: string,
    timeoutMs: number,
    coordinatorGone: boolean,
    branch?: BranchResult,
  ): BarrierVerdict {
    this.leaveWaiting(identifier, branch);
    const outcome = this.outcomes.get(outcomeKey(identifier, branch?.name));
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
  startWaitingForOperator(
    step: string,
    nowMs: number,
    timeoutMs: number | undefined,
    branch?: BranchResult,
  ): void {
    this.status = 'waiting-for-intervention';
    this.waitingBranch = branch;
    if (branch) branch.status = 'waiting-for-intervention';
    this.decision = undefined;
    this.intervention = {
      step,
      since: isoMs(nowMs),
      ...(timeoutMs !== undefined && { deadline: isoMs(nowMs + timeoutMs) }),
    };
    this.waitingStep = step;
  }

  /** An operator's decision counts only while the workflow waits for one, and the first one wins. */
  takeDecision(action: InterventionDecision['action']): void {
    if (this.status === 'waiting-for-intervention' && this.decision === undefined) this.decision = action;
  }

  /**
   * The `convoy.intervene` update's validator: throws, with a reason for the operator, unless the
   * workflow waits for a decision now (at `request.step`, when given) and has none yet. What it
   * accepts is taken: {@link stopWaitingForOperator} returns it even when the wait's timeout
   * fired in the same workflow task.
   */
  validateDecision(request: unknown): InterventionRequest {
    const parsed = parsePayload(interventionRequestSchema, request);
    if (!parsed.ok) throw new Error(`invalid intervene request: ${parsed.reason}`);
    const { step } = parsed.value;
    if (this.status !== 'waiting-for-intervention' || this.waitingStep === undefined) {
      if (this.lastWait && !this.lastWait.decided && (step === undefined || step === this.lastWait.step)) {
        throw new Error(
          `workflow ${this.plan.name} no longer waits: its wait for a decision at step ${this.lastWait.step} expired`,
        );
      }
      throw new Error(
        `workflow ${this.plan.name} is not waiting for manual intervention (it is ${this.status})`,
      );
    }
    if (step !== undefined && step !== this.waitingStep) {
      throw new Error(
        `workflow ${this.plan.name} waits for a decision at step ${this.waitingStep}, not ${step}`,
      );
    }
    if (this.decision !== undefined) {
      throw new Error(`workflow ${this.plan.name} has already been given a decision (${this.decision})`);
    }
    return parsed.value;
  }

  /** The decision given while waiting, if any. */
  get pendingDecision(): InterventionDecision['action'] | undefined {
    return this.decision;
  }

  /** Stops waiting for an operator; returns the decision given, if any. */
  stopWaitingForOperator(): InterventionDecision['action'] | undefined {
    const decision = this.decision;
    if (this.waitingStep !== undefined)
      this.lastWait = { step: this.waitingStep, decided: decision !== undefined };
    this.decision = undefined;
    this.intervention = undefined;
    this.waitingStep = undefined;
    if (this.waitingBranch) this.waitingBranch.status = 'running';
    this.waitingBranch = undefined;
    this.status = this.waitingAt.length > 0 ? 'waiting-at-barrier' : 'running';
    return decision;
  }

  /**
   * True while a step waits for an operator: the workflow has one wait at a time, so a branch whose
   * step needs one waits for the other's to end first.
   */
  get isWaitingForOperator(): boolean {
    return this.waitingStep !== undefined;
  }

  /** A participant (the workflow, or `branch`) stopped waiting at barrier `identifier`, or was cancelled there. */
  leaveWaiting(identifier: string, branch?: BranchResult): void {
    const at = this.waitingAt.indexOf(identifier);
    if (at >= 0) this.waitingAt.splice(at, 1);
    if (branch?.status === 'waiting-at-barrier') branch.status = 'running';
    if (this.status === 'waiting-at-barrier' && this.waitingAt.length === 0) this.status = 'running';
  }

  /** The barriers some participant of the workflow waits at now, sorted, without repeats. */
  waitingBarriers(): string[] {
    return [...new Set(this.waitingAt)].sort();
  }
}

/** The key of a barrier outcome: the participant's branch (none for the workflow) and the barrier. */
function outcomeKey(identifier: string, branch: string | undefined): string {
  return JSON.stringify([branch ?? null, identifier]);
}
