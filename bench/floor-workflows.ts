/**
 * The floor: the least a barrier can cost on Temporal. A child signals its parent (`ping`), the
 * parent's handler signals the child back at once (`pong`), and the child waits for it: one
 * signal each way, exactly the messages a one-participant barrier needs, with no Convoy code.
 *
 * Shaped like Convoy's own exchange so that the comparison is fair: the parent starts the child
 * as a child workflow; the child sends without awaiting the send and then waits on a
 * condition; and the parent answers from the signal handler without awaiting either.
 *
 * Bundled on its own (bench/floor.ts) and registered on its own task queue.
 */
import {
  condition,
  defineSignal,
  executeChild,
  getExternalWorkflowHandle,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';

export interface Round {
  round: number;
}
export const pingSignal = defineSignal<[Round]>('ping');
export const pongSignal = defineSignal<[Round]>('pong');

/** Input of {@link floorParent}. */
export interface FloorInput {
  rounds: number;
  /**
   * Pause before each ping (0: none, the next ping goes out in the workflow task that took the
   * pong). Note that the server fires any timer shorter than about a second only after about a
   * second (see {@link timerProbe}), so a small gap costs a second per round.
   */
  gapMs: number;
}

export async function floorParent(input: FloorInput): Promise<number> {
  const childId = `${workflowInfo().workflowId}/child`;
  const child = getExternalWorkflowHandle(childId);
  setHandler(pingSignal, ({ round }) => {
    void child.signal(pongSignal, { round });
  });
  return executeChild(floorChild, {
    workflowId: childId,
    args: [{ ...input, parentId: workflowInfo().workflowId }],
  });
}

export async function floorChild(input: FloorInput & { parentId: string }): Promise<number> {
  const parent = getExternalWorkflowHandle(input.parentId);
  let lastPong = -1;
  setHandler(pongSignal, ({ round }) => {
    lastPong = Math.max(lastPong, round);
  });
  for (let round = 0; round < input.rounds; round++) {
    if (input.gapMs > 0) await sleep(input.gapMs);
    void parent.signal(pingSignal, { round });
    await condition(() => lastPong >= round);
  }
  return input.rounds;
}

/**
 * Sleeps each duration in turn: the benchmark reads TimerStarted → TimerFired from the history
 * to show how precisely the server fires timers of each length (what barrier timeouts rely on).
 */
export async function timerProbe(durationsMs: number[]): Promise<number> {
  for (const ms of durationsMs) await sleep(ms);
  return durationsMs.length;
}
