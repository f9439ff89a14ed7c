/**
 * The floor's bundle, and the one-pair floor: the raw barrier of bench/floor-workflows.ts with
 * one participant, i.e. one signal child → parent → child, the reference line of every report
 * since issue 5. (The floor at each participant count runs next to Convoy in the release,
 * back-to-back and failure benchmarks, bench/barrier-workloads.ts.)
 *
 * Two flavours, because the server treats them very differently:
 * - from quiet (the reported floor): each round starts from a one-second timer, as a barrier's
 *   last arrival does after a `wait` step; two pairs run with staggered phases so that the run
 *   yields enough samples without the pairs meeting;
 * - back-to-back: the next arrival goes out in the workflow task that took the outcome.
 * A timer probe runs alongside: how late the server fires timers of various lengths.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { timerObservations, type TimerObservation } from './analysis';
import { rawSystem } from './barrier-systems';
import { runRelease } from './barrier-workloads';
import { withBenchWorker, type BenchContext } from './context';
import { backToBackWaits } from './plans';
import { rawTaskQueue } from './worker-host';
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

const latencies = (run: { rounds: { latencies: number[] }[] }) => run.rounds.flatMap((r) => r.latencies);

export async function runFloor(ctx: BenchContext, options: FloorOptions): Promise<FloorRun> {
  return withBenchWorker(
    ctx,
    'floor',
    async (taskQueue, worker) => {
      const raw = rawSystem(ctx, taskQueue, worker);
      const perPair = options.rounds + options.warmup;
      log(
        `floor: ${options.pairs} pairs × ${perPair} rounds from quiet (${options.warmup} warm-up each), plus the timer probe`,
      );
      const probe = await ctx.client.workflow.start('timerProbe', {
        workflowId: `${ctx.tag}-timers`,
        taskQueue: rawTaskQueue(taskQueue),
        args: [TIMER_PROBE_MS],
      });
      const pairs = await Promise.all(
        Array.from({ length: options.pairs }, async (_, i) => {
          await sleepMs((i * FLOOR_GAP_MS) / options.pairs);
          const waits = [new Array<number>(perPair).fill(FLOOR_GAP_MS)];
          return runRelease(ctx, raw, `${ctx.tag}-floor-${i + 1}`, waits, options.warmup);
        }),
      );
      await withTimeout(probe.result(), 60_000, 'the timer probe');
      const timers = timerObservations(await fetchEvents(ctx.client, probe.workflowId));

      log(`floor: back-to-back pair, ${options.backToBackRounds} rounds`);
      const b2b = await runRelease(
        ctx,
        raw,
        `${ctx.tag}-floor-b2b`,
        backToBackWaits(1, options.backToBackRounds),
        1,
      );
      return {
        samples: pairs.flatMap(latencies),
        rounds: perPair * options.pairs,
        backToBack: latencies(b2b),
        timers,
      };
    },
    { floor: true },
  );
}
