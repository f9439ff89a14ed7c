/** Release latency: one pipeline per participant count crossing barriers, on one worker. */
import type { BenchConfig } from '../config';
import { runRelease, withConvoyWorker, type ConvoyContext } from '../convoy-scenarios';
import { p50p99, percentile, ratio, round, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

const p50 = (values: readonly number[]): number => round(percentile(values, 50));

export async function releaseScenario(
  ctx: ConvoyContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  await withConvoyWorker(ctx, 'release', async (taskQueue) => {
    for (const { participants, rounds } of config.release) {
      await record.attempt(`release ${participants}`, async () => {
        const run = await runRelease(ctx, taskQueue, participants, rounds);
        const latencies = run.rounds.flatMap((r) => r.latencies).filter(Number.isFinite);
        const s = summarize(latencies);
        const legs = run.rounds.flatMap((r) => (r.legs ? [r.legs] : []));
        const decideMs = legs.flatMap((l) => l.decideMs);
        const kinds: Record<string, number> = {};
        for (const r of run.rounds)
          for (const [k, n] of Object.entries(r.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
        const floorP50Ms = record.results.floor.p50Ms;
        record.results.release.push({
          participants,
          ...p50p99(s),
          ratioToFloorP50: floorP50Ms === null ? null : ratio(s.p50Ms, floorP50Ms),
        });
        record.details.release.push({
          participants,
          samples: s.samples,
          rounds: run.rounds.length,
          maxMs: s.maxMs,
          minQuietGapMs: round(Math.min(...run.rounds.map((r) => r.quietGapMs))),
          deliverP50Ms: p50(legs.map((l) => l.deliverMs)),
          decideP50Ms: p50(decideMs),
          decideP99Ms: round(percentile(decideMs, 99)),
          transitP50Ms: p50(legs.flatMap((l) => l.transitMs)),
          kinds,
          missing: run.rounds.reduce((n, r) => n + r.missing.length, 0),
          parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
          parentTasksFailed: Object.values(run.parentTasks.failed).reduce((a, b) => a + b, 0),
        });
        if (run.status !== 'succeeded')
          record.note(`release ${participants}: the pipeline ended ${run.status}`);
        record.forceClosedNote(`release ${participants}`, run.parentTasks.failed);
        log(
          `release ${participants}: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} samples (${run.status})`,
        );
      });
    }
  });
}
