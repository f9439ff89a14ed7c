/**
 * Release latency of a release train of `pipelines` independent pipelines (issue 14), against
 * the raw floor of the same size on the same schedule, in the same worker process: the floor
 * first, so that its figures stand even when Convoy's train fails.
 */
import { releaseFigures } from '../analysis';
import { rawSystem } from '../barrier-systems';
import { runRelease } from '../barrier-workloads';
import type { BenchConfig } from '../config';
import { withBenchWorker, type BenchContext } from '../context';
import { releaseWaits } from '../plans';
import { nullable, round } from '../stats';
import { runTrain } from '../train';
import { describeError, log } from '../util';
import type { BenchRecord } from './record';
import { releaseRow } from './release';

export async function trainScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const { pipelines, rounds } = config.train;
  await withBenchWorker(ctx, 'train', async (taskQueue, worker) => {
    const waits = releaseWaits(pipelines, rounds);
    log(
      `train: ${pipelines} pipelines × ${rounds} trains, the floor (${pipelines} raw participants) and then Convoy`,
    );
    const floorRun = await runRelease(ctx, rawSystem(ctx, taskQueue, worker), `${ctx.tag}-raw-train`, waits);
    const run = await runTrain(ctx, taskQueue, worker, 'train', waits).catch((error: unknown) => {
      record.note(`train: Convoy's pipelines failed: ${describeError(error)}`);
      return undefined;
    });
    const floor = releaseFigures(floorRun.rounds);
    const convoy = releaseFigures(run?.rounds ?? []);
    const row = releaseRow(pipelines, convoy, floor);
    record.results.train = {
      pipelines: row.participants,
      p50Ms: row.p50Ms,
      p99Ms: row.p99Ms,
      floorP50Ms: row.floorP50Ms,
      floorP99Ms: row.floorP99Ms,
      ratioToSameNFloorP50: row.ratioToSameNFloorP50,
    };
    if (run) {
      const failed = run.statuses.filter((s) => s !== 'succeeded');
      if (failed.length)
        record.note(`train: ${failed.length} pipeline(s) did not succeed: ${failed.join(', ')}`);
      if (convoy.missing) record.note(`train: ${convoy.missing} outcomes missing`);
      record.details.train = {
        pipelines,
        rounds: run.rounds.length,
        samples: convoy.summary.samples,
        maxMs: convoy.summary.maxMs,
        minQuietGapMs: convoy.minQuietGapMs,
        kinds: convoy.kinds,
        workerPeakRssMb: nullable(worker.peakRssMb()),
        floor: { samples: floor.summary.samples, maxMs: floor.summary.maxMs },
      };
    }
    log(
      `train: p50 ${convoy.summary.p50Ms} ms, p99 ${convoy.summary.p99Ms} ms over ${convoy.summary.samples} samples; ` +
        `floor p50 ${floor.summary.p50Ms} ms, p99 ${floor.summary.p99Ms} ms (${round(convoy.summary.p50Ms / floor.summary.p50Ms, 2)}×)`,
    );
  });
}
