/** What a benchmark run measures, in its two sizes: `--quick` and the full run. */

export interface BenchConfig {
  /**
   * Floor pairs side by side. Keep it at 2: with four pairs each doing a round a second, the
   * server starts dispatching every workflow task of the pairs about 50 ms late (see notes).
   */
  floorPairs: number;
  floorRounds: number;
  floorWarmup: number;
  floorBackToBack: number;
  release: { participants: number; rounds: number }[];
  failurePipelines: number;
  failurePeers: number;
  timeoutPipelines: number;
  scale: { workflows: number; barriers: number };
  throughputPipelines: number;
}

export const QUICK: BenchConfig = {
  floorPairs: 2,
  floorRounds: 30,
  floorWarmup: 2,
  floorBackToBack: 20,
  release: [
    { participants: 2, rounds: 8 },
    { participants: 10, rounds: 4 },
    { participants: 50, rounds: 2 },
  ],
  failurePipelines: 3,
  failurePeers: 9,
  timeoutPipelines: 50,
  scale: { workflows: 100, barriers: 4 },
  throughputPipelines: 10,
};

export const FULL: BenchConfig = {
  floorPairs: 2,
  floorRounds: 90,
  floorWarmup: 3,
  floorBackToBack: 40,
  release: [
    { participants: 2, rounds: 25 },
    { participants: 10, rounds: 10 },
    { participants: 50, rounds: 5 },
    { participants: 200, rounds: 3 },
    { participants: 500, rounds: 2 },
  ],
  failurePipelines: 10,
  failurePeers: 9,
  timeoutPipelines: 60,
  scale: { workflows: 500, barriers: 4 },
  throughputPipelines: 50,
};
