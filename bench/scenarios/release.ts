/**
 * Release latency from quiet: for each participant count, one Convoy pipeline crossing barriers
 * and then the raw N-way barrier (the floor at that count) on the same schedule, in the same
 * worker process.
 */
import { releaseFigures, type ReleaseFigures } from '../analysis';
import { convoySystem, rawSystem } from '../barrier-systems';
import { runRelease, type ReleaseRun } from '../barrier-workloads';
import type { WorkerProcess } from '../worker-host';
import type { BenchConfig } from '../config';
import { predictedParentEvents } from '../convoy-scenarios';
import { withBenchWorker, type BenchContext } from '../context';
import { releaseWaits, type Waits } from '../plans';
import type { ReleaseRow } from '../report';
import { nullable, p50p99, ratio, round } from '../stats';
import { describeError, log } from '../util';
import type { BenchRecord } from './record';

/** A results row: Convoy's figures next to the floor's at the same participant count. */
export function releaseRow(participants: number, convoy: ReleaseFigures, floor: ReleaseFigures): ReleaseRow {
  const c = p50p99(convoy.summary);
  const f = p50p99(floor.summary);
  return {
    participants,
    ...c,
    floorP50Ms: f.p50Ms,
    floorP99Ms: f.p99Ms,
    ratioToSameNFloorP50: ratio(convoy.summary.p50Ms, floor.summary.p50Ms),
  };
}

/** One schedule crossed by the floor and then by Convoy, with the figures of both. */
export interface BothRuns {
  convoy: ReleaseFigures;
  floor: ReleaseFigures;
  row: ReleaseRow;
  /** Convoy's pipeline (undefined when it failed: the row then has the floor's figures only) and the floor's. */
  run: ReleaseRun | undefined;
  floorRun: ReleaseRun;
  /**
   * The worker process's peak resident set right after Convoy's pipeline: Convoy's own peak, as
   * the floor at the same count (run before it) and every smaller count need less.
   */
  workerPeakRssMb: number | null;
}

/**
 * Runs `waits` on the floor (pipeline `<tag>-raw-<id>`) and then on Convoy (`<tag>-<id>`), in
 * `worker`; measures every barrier but the first `skip`; notes what went wrong in either. The
 * floor goes first so that its figures stand even when Convoy's pipeline fails.
 */
export async function runBoth(
  ctx: BenchContext,
  taskQueue: string,
  worker: WorkerProcess,
  record: BenchRecord,
  what: string,
  waits: Waits,
  skip = 0,
): Promise<BothRuns> {
  const participants = waits.length;
  const id = what.replace(/\W+/g, '-');
  log(
    `${what}: ${participants} participants × ${(waits[0]?.length ?? 0) - skip} barriers, the floor and then Convoy`,
  );
  const floorRun = await runRelease(
    ctx,
    rawSystem(ctx, taskQueue, worker),
    `${ctx.tag}-raw-${id}`,
    waits,
    skip,
  );
  const run = await runRelease(
    ctx,
    convoySystem(ctx, taskQueue, worker),
    `${ctx.tag}-${id}`,
    waits,
    skip,
  ).catch((error: unknown) => {
    record.note(`${what}: Convoy's pipeline failed: ${describeError(error)}`);
    return undefined;
  });
  const workerPeakRssMb = nullable(worker.peakRssMb());
  const floor = releaseFigures(floorRun.rounds);
  const convoy = releaseFigures(run?.rounds ?? []);
  for (const [label, r, figures] of [
    [what, run, convoy],
    [`${what} (floor)`, floorRun, floor],
  ] as const) {
    if (!r) continue;
    if (r.status !== 'succeeded') record.note(`${label}: the pipeline ended ${r.status}`);
    if (figures.missing) record.note(`${label}: ${figures.missing} outcomes missing`);
    record.forceClosedNote(label, r.parentTasks.failed);
  }
  log(
    `${what}: p50 ${convoy.summary.p50Ms} ms, p99 ${convoy.summary.p99Ms} ms over ${convoy.summary.samples} samples (${run?.status ?? 'failed'}); ` +
      `floor p50 ${floor.summary.p50Ms} ms, p99 ${floor.summary.p99Ms} ms`,
  );
  return { convoy, floor, row: releaseRow(participants, convoy, floor), run, floorRun, workerPeakRssMb };
}

export async function releaseScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'release', async (taskQueue, worker) => {
    for (const { participants, rounds } of config.release) {
      await record.attempt(`release ${participants}`, async () => {
        const waits = releaseWaits(participants, rounds);
        const both = await runBoth(ctx, taskQueue, worker, record, `release ${participants}`, waits);
        const { convoy: c, floor: f, run } = both;
        const pairFloor = record.results.floor.p50Ms;
        record.results.release.push({
          ...both.row,
          ratioToFloorP50: pairFloor === null ? null : ratio(c.summary.p50Ms, pairFloor),
        });
        if (!run) return;
        record.details.release.push({
          participants,
          samples: c.summary.samples,
          rounds: run.rounds.length,
          maxMs: c.summary.maxMs,
          minQuietGapMs: c.minQuietGapMs,
          ...c.legs,
          kinds: c.kinds,
          missing: c.missing,
          parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
          parentTasksFailed: Object.values(run.parentTasks.failed).reduce((a, b) => a + b, 0),
          wallSeconds: round(run.wallSeconds, 1),
          parentHistoryEvents: run.parentEvents.length,
          predictedParentHistoryEvents: predictedParentEvents(waits),
          workerPeakRssMb: both.workerPeakRssMb,
          floor: { samples: f.summary.samples, maxMs: f.summary.maxMs, ...f.legs },
        });
      });
    }
  });
}
