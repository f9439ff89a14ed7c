/** What a benchmark run measures, in its two sizes: `--quick` and the full run. */

export interface BenchConfig {
  /**
   * One-pair floor pairs side by side. Keep it at 2: with four pairs each doing a round a second,
   * the server started dispatching every workflow task of the pairs about 50 ms late.
   */
  floorPairs: number;
  floorRounds: number;
  floorWarmup: number;
  floorBackToBack: number;
  /**
   * Barriers from quiet, per participant count; Convoy and the floor each run every row. A
   * barrier's samples move together (one release), so a row needs several barriers for its p50 to
   * settle: with 3 at 200 participants, runs of the same build measured 1.04–1.61× the floor. Each
   * row needs at least 2 for the ABBA order (bench/scenarios/release.ts); 2,000 has 1 and runs floor, Convoy.
   */
  release: { participants: number; rounds: number }[];
  /** Barriers crossed back-to-back, after one from quiet, per participant count; both again. */
  backToBack: { participants: number; barriers: number }[];
  failurePipelines: number;
  failurePeers: number;
  /** Timeout pipelines under load (about ten in flight), then one at a time. */
  timeoutPipelines: number;
  timeoutAlonePipelines: number;
  scale: { workflows: number; barriers: number };
  throughputPipelines: number;
  /** Worker memory: one pipeline of `workflows` cached at once, then `pipelines` small ones (10 workflows each). */
  memory: { workflows: number; pipelines: number };
  /** Shipped dynamic config against the server's defaults: seconds of idle, then a throughput run. */
  serverSettings: { idleSeconds: number; throughputPipelines: number };
  /** A release train (issue 14): `pipelines` independent pipelines, `rounds` trains from quiet; the floor the same. */
  train: { pipelines: number; rounds: number };
}

export const QUICK: BenchConfig = {
  floorPairs: 2,
  floorRounds: 10,
  floorWarmup: 2,
  floorBackToBack: 20,
  release: [
    { participants: 2, rounds: 4 },
    { participants: 10, rounds: 3 },
    { participants: 50, rounds: 2 },
  ],
  backToBack: [
    { participants: 2, barriers: 8 },
    { participants: 10, barriers: 4 },
    { participants: 50, barriers: 1 },
  ],
  failurePipelines: 2,
  failurePeers: 9,
  timeoutPipelines: 40,
  timeoutAlonePipelines: 10,
  scale: { workflows: 100, barriers: 4 },
  throughputPipelines: 10,
  memory: { workflows: 100, pipelines: 5 },
  serverSettings: { idleSeconds: 5, throughputPipelines: 5 },
  train: { pipelines: 10, rounds: 3 },
};

/** The full run: about 40 minutes on 2 quiet cores, most of it the 2,000-participant barrier and 1,000 × 4. */
export const FULL: BenchConfig = {
  floorPairs: 2,
  floorRounds: 30,
  floorWarmup: 3,
  floorBackToBack: 40,
  release: [
    { participants: 2, rounds: 24 },
    { participants: 10, rounds: 16 },
    { participants: 50, rounds: 8 },
    { participants: 200, rounds: 6 },
    { participants: 500, rounds: 4 },
    { participants: 2000, rounds: 1 },
  ],
  backToBack: [
    { participants: 2, barriers: 24 },
    { participants: 10, barriers: 16 },
    { participants: 50, barriers: 8 },
    { participants: 200, barriers: 6 },
    { participants: 500, barriers: 4 },
  ],
  failurePipelines: 6,
  failurePeers: 9,
  timeoutPipelines: 60,
  timeoutAlonePipelines: 40,
  scale: { workflows: 1000, barriers: 4 },
  throughputPipelines: 50,
  memory: { workflows: 500, pipelines: 50 },
  serverSettings: { idleSeconds: 30, throughputPipelines: 30 },
  train: { pipelines: 10, rounds: 8 },
};

/** `config` with only the release and back-to-back rows of these participant counts (all when undefined). */
export function withParticipants(config: BenchConfig, counts: ReadonlySet<number> | undefined): BenchConfig {
  if (!counts) return config;
  return {
    ...config,
    release: config.release.filter((r) => counts.has(r.participants)),
    backToBack: config.backToBack.filter((r) => counts.has(r.participants)),
  };
}
