/**
 * Back-to-back release: for each participant count, barriers crossed one right after the other
 * (the next arrival goes out as soon as the previous barrier released), by Convoy and by the raw
 * floor on the same schedule, in ABBA order, in the same worker process. The first barrier of each
 * pipeline is crossed from quiet and left out.
 */
import type { BenchConfig } from '../config';
import { withBenchWorker, type BenchContext } from '../context';
import { backToBackWaits } from '../plans';
import { ratio } from '../stats';
import type { BenchRecord } from './record';
import { runBoth } from './release';

export async function backToBackScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withBenchWorker(ctx, 'back-to-back', async (taskQueue, worker) => {
    for (const { participants, barriers } of config.backToBack) {
      await record.attempt(`back-to-back ${participants}`, async () => {
        const {
          convoy: c,
          floor: f,
          row,
          run,
          partP50Ms,
        } = await runBoth(
          ctx,
          taskQueue,
          worker,
          record,
          `back-to-back ${participants}`,
          (b) => backToBackWaits(participants, b),
          barriers,
          1,
        );
        record.results.backToBack.push(row);
        const quiet = record.results.release.find((r) => r.participants === participants);
        const toQuiet = (b2b: number | null, fromQuiet: number | null | undefined) =>
          b2b === null || fromQuiet === null || fromQuiet === undefined ? null : ratio(b2b, fromQuiet);
        (record.details.backToBack ??= []).push({
          participants,
          barriers,
          samples: c.summary.samples,
          ratioToFromQuietP50: toQuiet(row.p50Ms, quiet?.p50Ms),
          floorRatioToFromQuietP50: toQuiet(row.floorP50Ms, quiet?.floorP50Ms),
          ...c.legs,
          parentTasksFailed: run ? Object.values(run.parentTasks.failed).reduce((a, b) => a + b, 0) : 0,
          floor: { samples: f.summary.samples, ...f.legs },
          partP50Ms,
        });
      });
    }
  });
}
