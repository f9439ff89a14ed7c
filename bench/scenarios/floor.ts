/** The one-pair floor: Temporal's own signal round trip, with no Convoy code (bench/floor.ts runs it). */
import type { BenchConfig } from '../config';
import type { BenchContext } from '../context';
import { runFloor } from '../floor';
import { p50p99, round, summarize } from '../stats';
import { log } from '../util';
import type { BenchRecord } from './record';

export async function floorScenario(
  ctx: BenchContext,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const floor = await runFloor(ctx, {
    pairs: config.floorPairs,
    rounds: config.floorRounds,
    warmup: config.floorWarmup,
    backToBackRounds: config.floorBackToBack,
  });
  const b = summarize(floor.backToBack);
  const s = summarize(floor.samples);
  record.results.floor = p50p99(s);
  record.details.floor = {
    rounds: floor.rounds,
    samples: s.samples,
    maxMs: s.maxMs,
    backToBack: { samples: b.samples, p50Ms: b.p50Ms, p99Ms: b.p99Ms },
    timers: floor.timers.map((t) => ({
      requestedMs: round(t.requestedMs),
      firedAfterMs: round(t.firedAfterMs),
    })),
  };
  if (b.p50Ms > 2 * s.p50Ms) {
    record.note(
      `Back-to-back signal rounds (the next arrival sent in the workflow task that took the outcome) took p50 ${b.p50Ms} ms against ${s.p50Ms} ms from quiet. ` +
        'Once the workflow tasks of a pair come in quick succession, the server dispatches each of them about 50 ms after scheduling it ' +
        '(WorkflowTaskScheduled → WorkflowTaskStarted) while the worker is idle. The same happened with four floor pairs each doing one round a second, ' +
        "but not with three, nor with six pairs at one round every two seconds; neither the worker's poller settings nor the server's matcher setting changed it. " +
        'The floor is therefore measured with two pairs, each round after a one-second timer, as barrier releases are.',
    );
  }
  const short = floor.timers.filter((t) => t.requestedMs < 1000 && t.firedAfterMs - t.requestedMs > 100);
  if (short.length) {
    record.note(
      `The server fired timers shorter than one second late (${short.map((t) => `${round(t.requestedMs, 0)} ms after ${round(t.firedAfterMs, 0)} ms`).join(', ')}): ` +
        'every benchmark plan waits at least one second, and barrier timeouts under a second cannot be met more precisely than that.',
    );
  }
  log(`floor: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} round trips`);
}
