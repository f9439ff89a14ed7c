/**
 * The floor: the least a barrier can cost on Temporal, with no Convoy code. N child workflows
 * signal their parent (`raw.arrive`); when the last one has arrived, the parent signals all N
 * (`raw.outcome`) from that signal's handler, in the one workflow task that took it. With N = 1
 * this is the one-pair child → parent → child round trip.
 *
 * Shaped like Convoy's own exchange so that the comparison is fair: the parent starts the
 * children as child workflows; a child sends without awaiting the send and then waits on a
 * condition; the parent answers without awaiting its sends; the payloads have the fields of
 * Convoy's (`workflow`, `identifier`, `kind`), so bench/analysis.ts reads both alike. Both run
 * the same schedule: a {@link Waits} matrix (bench/plans.ts), which Convoy runs as wait steps.
 *
 * Failure propagation and timeouts have their floors here too: the `failer` runs a failing
 * activity instead of arriving, tells the parent (`raw.abandon`), and the parent signals every peer
 * `broken`; in {@link rawTimeoutParent} the parent arms one timer for the first arrival's deadline
 * and signals `timed-out` when it fires.
 *
 * Bundled on its own (bench/floor.ts) and run by a worker of its own next to Convoy's, in the
 * same process (bench/worker-process.ts).
 */
import {
  condition,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type * as floorActivities from './floor-activities';
import { LATECOMER, WAITER, participantName, roundIdentifier, type Waits } from './plans';

export interface RawArrival {
  workflow: string;
  identifier: string;
  /** The sender's workflow time when it arrived, as Convoy's arrivals carry it (deadlines count from it). */
  arrivedAt?: number;
}
export interface RawOutcome {
  identifier: string;
  kind: 'released' | 'broken' | 'timed-out';
}
export const rawArriveSignal = defineSignal<[RawArrival]>('raw.arrive');
export const rawOutcomeSignal = defineSignal<[RawOutcome]>('raw.outcome');
/** The failer will not reach `identifier`: the parent breaks it for everyone else. */
export const rawAbandonSignal = defineSignal<[RawArrival]>('raw.abandon');

/** The workflow ID of a raw participant: `<parent ID>/<name>`, as Convoy names its children. */
export function rawChildId(parentId: string, name: string): string {
  return `${parentId}/${name}`;
}

/** Input of {@link rawBarrierParent}. */
export interface RawBarrierInput {
  /** Participant i is named `participantName(i, waits.length)` and waits `waits[i][b]` before barrier b. */
  waits: Waits;
  /** The participant that fails an activity instead of arriving at its first barrier, if any. */
  failer?: number;
}

/** The coordinator: counts arrivals per barrier and signals every participant on the last one. */
export async function rawBarrierParent(input: RawBarrierInput): Promise<number> {
  const parentId = workflowInfo().workflowId;
  const names = input.waits.map((_, i) => participantName(i, input.waits.length));
  const children = names.map((name) => getExternalWorkflowHandle(rawChildId(parentId, name)));
  const tell = (identifier: string, kind: RawOutcome['kind'], except?: string): void => {
    children.forEach((child, i) => {
      if (names[i] !== except) void child.signal(rawOutcomeSignal, { identifier, kind });
    });
  };
  const arrived = new Map<string, number>();
  setHandler(rawArriveSignal, ({ identifier }) => {
    const count = (arrived.get(identifier) ?? 0) + 1;
    arrived.set(identifier, count);
    if (count === names.length) tell(identifier, 'released');
  });
  setHandler(rawAbandonSignal, ({ workflow, identifier }) => tell(identifier, 'broken', workflow));
  await Promise.all(
    names.map((name, i) =>
      executeChild(rawBarrierChild, {
        workflowId: rawChildId(parentId, name),
        args: [{ parentId, name, waits: input.waits[i]!, fails: i === input.failer }],
      }),
    ),
  );
  return names.length;
}

/** Input of {@link rawBarrierChild}. */
export interface RawChildInput {
  parentId: string;
  name: string;
  /** Wait before each barrier (ms; 0: none). */
  waits: number[];
  /** Fails an activity before the first barrier instead of arriving. */
  fails: boolean;
  /** The barrier's identifier when there is one only (the timeout floor); by round otherwise. */
  identifier?: string;
}

const { rawFailingStep } = proxyActivities<typeof floorActivities>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

/** A participant: waits, arrives, waits for the outcome; ends at the first barrier not released. */
export async function rawBarrierChild(input: RawChildInput): Promise<string> {
  const parent = getExternalWorkflowHandle(input.parentId);
  const outcomes = new Map<string, RawOutcome['kind']>();
  setHandler(rawOutcomeSignal, ({ identifier, kind }) => {
    outcomes.set(identifier, kind);
  });
  for (const [b, ms] of input.waits.entries()) {
    const identifier = input.identifier ?? roundIdentifier(b);
    if (ms > 0) await sleep(ms);
    if (input.fails) {
      try {
        await rawFailingStep();
      } catch {
        await parent.signal(rawAbandonSignal, { workflow: input.name, identifier });
        return 'failed';
      }
    }
    void parent.signal(rawArriveSignal, { workflow: input.name, identifier, arrivedAt: Date.now() });
    await condition(() => outcomes.has(identifier));
    if (outcomes.get(identifier) !== 'released') return outcomes.get(identifier)!;
  }
  return 'released';
}

/** Input of {@link rawTimeoutParent}. */
export interface RawTimeoutInput {
  identifier: string;
  /** The waiter's wait before it arrives (ms). */
  waitMs: number;
  /** How long after its arrival the waiter's barrier times out (ms). */
  timeoutMs: number;
  /** The latecomer's wait: long enough that the barrier times out first. */
  lateMs: number;
}

/**
 * The floor of a barrier timeout: the least any coordinator pays between a deadline and the
 * waiter hearing of it. A waiter and a latecomer (raw participants, as Convoy's timeout plan has
 * them); the first arrival sets the deadline from its `arrivedAt`, as Convoy does; one timer for
 * it, armed in the task that took the arrival (a `condition` with a timeout, as Convoy's
 * coordinator waits), and the waiter signalled `timed-out` in the task the timer fired in. The
 * latecomer is terminated with the parent (the default parent-close policy).
 */
export async function rawTimeoutParent(input: RawTimeoutInput): Promise<string> {
  const parentId = workflowInfo().workflowId;
  const waiterId = rawChildId(parentId, WAITER);
  let deadline: number | undefined;
  let released = false;
  setHandler(rawArriveSignal, ({ identifier, arrivedAt }) => {
    if (identifier !== input.identifier) return;
    if (deadline === undefined) deadline = (arrivedAt ?? Date.now()) + input.timeoutMs;
    else released = true;
  });
  const child = (name: string, waitMs: number) =>
    executeChild(rawBarrierChild, {
      workflowId: rawChildId(parentId, name),
      args: [{ parentId, name, waits: [waitMs], fails: false, identifier: input.identifier }],
    });
  const waiter = child(WAITER, input.waitMs);
  void child(LATECOMER, input.lateMs).catch(() => undefined);
  await condition(() => deadline !== undefined);
  const crossed = await condition(() => released, Math.max(1, deadline! - Date.now()));
  const kind: RawOutcome['kind'] = crossed ? 'released' : 'timed-out';
  void getExternalWorkflowHandle(waiterId).signal(rawOutcomeSignal, { identifier: input.identifier, kind });
  return waiter;
}

/**
 * Sleeps each duration in turn: the benchmark reads TimerStarted → TimerFired from the history
 * to show how precisely the server fires timers of each length (what barrier timeouts rely on).
 */
export async function timerProbe(durationsMs: number[]): Promise<number> {
  for (const ms of durationsMs) await sleep(ms);
  return durationsMs.length;
}
