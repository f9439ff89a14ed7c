/**
 * Release latency from quiet: for each participant count, Convoy's pipelines crossing barriers
 * and the raw N-way barrier's (the floor at that count) on the same schedule, in ABBA order, in
 * the same worker process.
 */
import { releaseFigures, type ReleaseFigures } from '../analysis';
import { convoySystem, rawSystem } from '../barrier-systems';
import { runRelease, type ReleaseRun } from '../barrier-workloads';
import type { WorkerProcess } from '../worker-host';
import type { BenchConfig } from '../config';
import { predictedParentEvents } from '../convoy-scenarios';
import { withBenchWorker, type BenchContext } from '../context';
import { abbaParts, releaseWaits, type Waits } from '../plans';
import { partsCell, type ReleaseRow } from '../report';
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

/** One schedule crossed by the floor and by Convoy in ABBA order, with the figures of both. */
export interface BothRuns {
  convoy: ReleaseFigures;
  floor: ReleaseFigures;
  row: ReleaseRow;
  /**
   * Convoy's first pipeline (undefined when it failed) and the schedule it ran: the details
   * (history against prediction, wall time, slowest coordinator task) are read from it.
   */
  run: ReleaseRun | undefined;
  runWaits: Waits;
  /** Convoy's barriers measured over all its pipelines (a failed pipeline's count none). */
  convoyBarriers: number;
  /** Each pipeline's p50 in the order they ran, the floor's and Convoy's: how far the server drifted. */
  partP50Ms: { floor: (number | null)[]; convoy: (number | null)[] };
  /**
   * The worker process's peak resident set right after Convoy's last pipeline: Convoy's own peak,
   * as the floor at the same count and every smaller count need less.
   */
  workerPeakRssMb: number | null;
}

/**
 * Runs the schedule of `barriers` measured barriers (`schedule(b)` builds one of `b`, preceded by
 * `skip` barriers crossed and left out) on the floor and on Convoy, in `worker`, and notes what
 * went wrong in either. The barriers are split in two ({@link abbaParts}) and run as four
 * pipelines, floor, Convoy, Convoy, floor (`<tag>-raw-<id>-1`, `<tag>-<id>-1`, `<tag>-<id>-2`,
 * `<tag>-raw-<id>-2`): a server that slows down (or speeds up) over the minutes of a row then
 * weighs on both systems alike, which running one after the other did not. The floor goes first
 * so that its figures stand even when Convoy's pipeline fails.
 */
export async function runBoth(
  ctx: BenchContext,
  taskQueue: string,
  worker: WorkerProcess,
  record: BenchRecord,
  what: string,
  schedule: (barriers: number) => Waits,
  barriers: number,
  skip = 0,
): Promise<BothRuns> {
  const parts = abbaParts(barriers).map((b) => schedule(b));
  const participants = parts[0]?.length ?? 0;
  const id = what.replace(/\W+/g, '-');
  log(
    `${what}: ${participants} participants × ${barriers} barriers in ${parts.length} parts, the floor and Convoy in ABBA order`,
  );
  const floorRuns: ReleaseRun[] = [];
  const convoyRuns: (ReleaseRun | undefined)[] = [];
  const runFloor = async (part: number) =>
    floorRuns.push(
      await runRelease(
        ctx,
        rawSystem(ctx, taskQueue, worker),
        `${ctx.tag}-raw-${id}-${part + 1}`,
        parts[part]!,
        skip,
      ),
    );
  const runConvoy = async (part: number) =>
    convoyRuns.push(
      await runRelease(
        ctx,
        convoySystem(ctx, taskQueue, worker),
        `${ctx.tag}-${id}-${part + 1}`,
        parts[part]!,
        skip,
      ).catch((error: unknown) => {
        record.note(`${what}: Convoy's pipeline ${part + 1} failed: ${describeError(error)}`);
        return undefined;
      }),
    );
  await runFloor(0);
  for (let part = 0; part < parts.length; part++) await runConvoy(part);
  const workerPeakRssMb = nullable(worker.peakRssMb());
  for (let part = 1; part < parts.length; part++) await runFloor(part);
  const floor = releaseFigures(floorRuns.flatMap((r) => r.rounds));
  const convoy = releaseFigures(convoyRuns.flatMap((r) => r?.rounds ?? []));
  /** Each pipeline with its own figures, once: for its notes and its p50 in the order run. */
  const figuresOf = (r: ReleaseRun | undefined) => (r ? releaseFigures(r.rounds) : undefined);
  const convoyParts = convoyRuns.map((run) => ({ run, figures: figuresOf(run) }));
  const floorParts = floorRuns.map((run) => ({ run, figures: figuresOf(run) }));
  const pipelines = [
    ...convoyParts.map((p, i) => ({ ...p, label: `${what} (pipeline ${i + 1})` })),
    ...floorParts.map((p, i) => ({ ...p, label: `${what} (floor, pipeline ${i + 1})` })),
  ];
  for (const { run: r, figures, label } of pipelines) {
    if (!r || !figures) continue;
    if (r.status !== 'succeeded') record.note(`${label}: the pipeline ended ${r.status}`);
    if (figures.missing) record.note(`${label}: ${figures.missing} outcomes missing`);
    record.forceClosedNote(label, r.parentTasks.failed);
  }
  const partP50 = (p: { figures: ReleaseFigures | undefined }) => nullable(p.figures?.summary.p50Ms);
  const partP50Ms = { floor: floorParts.map(partP50), convoy: convoyParts.map(partP50) };
  log(
    `${what}: p50 ${convoy.summary.p50Ms} ms, p99 ${convoy.summary.p99Ms} ms over ${convoy.summary.samples} samples ` +
      `(${convoyRuns.map((r) => r?.status ?? 'failed').join(', ')}); floor p50 ${floor.summary.p50Ms} ms, p99 ${floor.summary.p99Ms} ms; ` +
      `each pipeline's p50 in order: ${partsCell(partP50Ms)}`,
  );
  return {
    convoy,
    floor,
    row: releaseRow(participants, convoy, floor),
    run: convoyRuns[0],
    runWaits: parts[0]!,
    convoyBarriers: convoyRuns.reduce((n, r) => n + (r?.rounds.length ?? 0), 0),
    partP50Ms,
    workerPeakRssMb,
  };
}

export async function releaseScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'release', async (taskQueue, worker) => {
    for (const { participants, rounds } of config.release) {
      await record.attempt(`release ${participants}`, async () => {
        const both = await runBoth(
          ctx,
          taskQueue,
          worker,
          record,
          `release ${participants}`,
          (r) => releaseWaits(participants, r),
          rounds,
        );
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
          rounds: both.convoyBarriers,
          maxMs: c.summary.maxMs,
          minQuietGapMs: c.minQuietGapMs,
          ...c.legs,
          kinds: c.kinds,
          missing: c.missing,
          parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
          parentTasksFailed: Object.values(run.parentTasks.failed).reduce((a, b) => a + b, 0),
          wallSeconds: round(run.wallSeconds, 1),
          parentHistoryEvents: run.parentEvents.length,
          predictedParentHistoryEvents: predictedParentEvents(both.runWaits),
          workerPeakRssMb: both.workerPeakRssMb,
          floor: { samples: f.summary.samples, maxMs: f.summary.maxMs, ...f.legs },
          partP50Ms: both.partP50Ms,
        });
      });
    }
  });
}
