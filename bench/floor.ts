/**
 * The floor benchmark: bundles bench/floor-workflows.ts on its own, runs it on its own task queue
 * with a worker process of its own, and measures the child's ping → pong round trips.
 *
 * Two flavours, because the server treats them very differently:
 * - from quiet (the reported floor): each round starts from a one-second timer, as a barrier's
 *   last arrival does after a `wait` step; two pairs run with staggered phases so that the run
 *   yields enough samples without the pairs meeting (from four pairs on, the server slows down
 *   as it does back-to-back);
 * - back-to-back: the next ping goes out in the workflow task that took the pong. After a few
 *   rounds the server then dispatches each workflow task of the pair about 50 ms late, which
 *   the report shows next to the floor.
 * A timer probe runs alongside: how late the server fires timers of various lengths.
 */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { floorRoundTrips, timerObservations, type TimerObservation } from './analysis';
import type { FloorInput } from './floor-workflows';
import { startWorkerProcess } from './worker-host';
import { fetchEvents, log, sleepMs, withTimeout } from './util';

/** Writes the floor workflows' bundle into `dir` and returns its path. */
export async function bundleFloorWorkflows(dir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./floor-workflows'),
    logger: new DefaultLogger('ERROR'),
  });
  const file = join(dir, 'floor-bundle.js');
  writeFileSync(file, code);
  return file;
}

export interface FloorOptions {
  client: Client;
  address: string;
  namespace: string;
  tag: string;
  bundleDir: string;
  /** Pairs running side by side, phases staggered over the gap. */
  pairs: number;
  /** Measured rounds per pair, after `warmup` rounds left out. */
  rounds: number;
  warmup: number;
  /** Rounds of the back-to-back pair. */
  backToBackRounds: number;
}

export interface FloorRun {
  /** Round trips from quiet: the floor. */
  samples: number[];
  rounds: number;
  /** Round trips back-to-back. */
  backToBack: number[];
  /** How precisely the server fired timers of various lengths. */
  timers: TimerObservation[];
}

/** Timer lengths probed (ms): below, at and above one second. */
export const TIMER_PROBE_MS = [100, 300, 500, 800, 1000, 1200, 1500, 2000];
/** Gap between rounds of the floor pairs: a timer of a second or more fires on time. */
export const FLOOR_GAP_MS = 1000;

export async function runFloor(options: FloorOptions): Promise<FloorRun> {
  const bundle = await bundleFloorWorkflows(options.bundleDir);
  const taskQueue = `${options.tag}-floor`;
  const { client } = options;
  const worker = await startWorkerProcess({
    kind: 'floor',
    address: options.address,
    namespace: options.namespace,
    taskQueue,
    bundlePath: bundle,
  });
  try {
    const perPair = options.rounds + options.warmup;
    log(
      `floor: ${options.pairs} pairs × ${perPair} rounds from quiet (${options.warmup} warm-up each), plus the timer probe`,
    );
    const probe = await client.workflow.start('timerProbe', {
      workflowId: `${options.tag}-timers`,
      taskQueue,
      args: [TIMER_PROBE_MS],
    });
    const pairIds = await Promise.all(
      Array.from({ length: options.pairs }, async (_, i) => {
        await sleepMs((i * FLOOR_GAP_MS) / options.pairs);
        const input: FloorInput = { rounds: perPair, gapMs: FLOOR_GAP_MS };
        const handle = await client.workflow.start('floorParent', {
          workflowId: `${options.tag}-floor-${i + 1}`,
          taskQueue,
          args: [input],
        });
        await withTimeout(handle.result(), 120_000 + perPair * 2000, `floor pair ${i + 1}`);
        return handle.workflowId;
      }),
    );
    await withTimeout(probe.result(), 60_000, 'the timer probe');
    const samples: number[] = [];
    for (const id of pairIds)
      samples.push(...floorRoundTrips(await fetchEvents(client, `${id}/child`), options.warmup));
    const timers = timerObservations(await fetchEvents(client, probe.workflowId));

    log(`floor: back-to-back pair, ${options.backToBackRounds} rounds`);
    const b2b: FloorInput = { rounds: options.backToBackRounds, gapMs: 0 };
    const handle = await client.workflow.start('floorParent', {
      workflowId: `${options.tag}-floor-b2b`,
      taskQueue,
      args: [b2b],
    });
    await withTimeout(handle.result(), 120_000, 'the back-to-back floor pair');
    const backToBack = floorRoundTrips(await fetchEvents(client, `${handle.workflowId}/child`));
    return { samples, rounds: perPair * options.pairs, backToBack, timers };
  } finally {
    await worker.stop();
  }
}
