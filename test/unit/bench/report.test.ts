import { checkTargets, renderMarkdown, type BenchDetails, type BenchResults } from '../../../bench/report';
import { parseCpuSeconds, parseStatusFieldMb } from '../../../bench/proc';
import { logTicks, niceAxis, renderReleaseChart } from '../../../bench/svg';

const results: BenchResults = {
  machine: {
    cpuModel: 'Test CPU',
    cores: 2,
    memoryGiB: 8,
    node: 'v20.0.0',
    temporalCli: 'temporal version 1.9.1',
    os: 'linux',
  },
  floor: { p50Ms: 20, p99Ms: 40 },
  release: [
    {
      participants: 2,
      p50Ms: 25,
      p99Ms: 50,
      floorP50Ms: 22,
      floorP99Ms: 40,
      ratioToSameNFloorP50: 1.14,
      ratioToFloorP50: 1.25,
    },
    {
      participants: 10,
      p50Ms: 28,
      p99Ms: 60,
      floorP50Ms: 25,
      floorP99Ms: 50,
      ratioToSameNFloorP50: 1.12,
      ratioToFloorP50: 1.4,
    },
    {
      participants: 50,
      p50Ms: 300,
      p99Ms: 500,
      floorP50Ms: 200,
      floorP99Ms: 400,
      ratioToSameNFloorP50: 1.5,
      ratioToFloorP50: 15,
    },
  ],
  backToBack: [
    { participants: 2, p50Ms: 30, p99Ms: 50, floorP50Ms: 25, floorP99Ms: 45, ratioToSameNFloorP50: 1.2 },
    { participants: 10, p50Ms: 50, p99Ms: 90, floorP50Ms: 40, floorP99Ms: 80, ratioToSameNFloorP50: 1.25 },
  ],
  failurePropagation: { p50Ms: 90, p99Ms: 150, floorP50Ms: 30 },
  timeoutLateness: {
    p50Ms: 20,
    p99Ms: 45,
    maxMs: 60,
    samples: 50,
    rawTimerP50Ms: 5,
    rawTimerP99Ms: 30,
    rawCoordinatorP50Ms: 18,
    rawCoordinatorP99Ms: 40,
  },
  timeoutLatenessUnderLoad: {
    p50Ms: 150,
    p99Ms: 400,
    maxMs: 420,
    samples: 60,
    rawTimerP50Ms: 5,
    rawTimerP99Ms: 30,
    rawCoordinatorP50Ms: 100,
    rawCoordinatorP99Ms: 390,
  },
  scale: {
    workflows: 100,
    barriersPerWorkflow: 4,
    wallSeconds: 12,
    parentHistoryEvents: 2100,
    workerPeakRssMb: 400,
    releaseP50Ms: 200,
    releaseP99Ms: 400,
    predictedParentHistoryEvents: 3308,
    parentHistoryToPredicted: 0.63,
  },
  throughput: { pipelines: 10, pipelinesPerMinute: 60 },
  serverSettings: {
    idleSeconds: 10,
    throughputPipelines: 10,
    shipped: {
      idle: { cpuSeconds: 0.2, dbReads: 30, dbWrites: 4, historyTaskReads: 10 },
      throughput: {
        cpuSeconds: 12,
        dbReads: 2000,
        dbWrites: 3000,
        historyTaskReads: 600,
        pipelinesPerMinute: 60,
      },
    },
    defaults: {
      idle: { cpuSeconds: 0.1, dbReads: 20, dbWrites: 4, historyTaskReads: 5 },
      throughput: {
        cpuSeconds: 10,
        dbReads: 1000,
        dbWrites: 3000,
        historyTaskReads: 200,
        pipelinesPerMinute: 40,
      },
    },
  },
  memory: { rssPerCachedWorkflowMb: 2.1, rssPerInFlightPipelineMb: 25, stepRssMb: 4.1, stepPrivateMb: 0.3 },
};
const details: BenchDetails = {
  mode: 'quick',
  startedAt: '2025-01-01T00:00:00.000Z',
  durationSeconds: 100,
  release: [],
  notes: ['a note'],
  errors: [],
};

describe('checkTargets', () => {
  const verdicts = Object.fromEntries(checkTargets(results).map((c) => [c.target, c.verdict]));
  const measured = Object.fromEntries(checkTargets(results).map((c) => [c.target, c.measured]));

  it("judges each of issue 9's targets", () => {
    expect(
      verdicts['timeout lateness p99 ≤ 50 ms over barrier timeouts of 100 ms–5 s (one pipeline at a time)'],
    ).toBe('holds');
    expect(verdicts["timeout lateness p99 ≤ 1.2 × a raw timer's lateness p99"]).toBe('missed'); // 45 / 30
    // 20 / 18 and 45 / 40: within 1.2× of the raw coordinator.
    expect(
      verdicts["timeout lateness p50 ≤ 1.2 × a raw coordinator's lateness p50, one pipeline at a time"],
    ).toBe('holds');
    expect(
      measured["timeout lateness p99 ≤ 1.2 × a raw coordinator's lateness p99, one pipeline at a time"],
    ).toBe('45 ms = 1.13 × raw coordinator (40 ms)');
    // 150 / 100 under load: missed.
    expect(verdicts["timeout lateness p50 ≤ 1.2 × a raw coordinator's lateness p50, under load"]).toBe(
      'missed',
    );
    expect(verdicts['failure propagation p50 ≤ 1.25 × its floor p50']).toBe('missed'); // 3 ×
    expect(verdicts['1,000 × 4 pipeline: parent history under 20,000 events']).toBe('missed'); // 21,000 extrapolated
    // Memory is not extrapolated: a 100 × 4 run's RSS says nothing about 1,000 × 4.
    expect(verdicts["1,000 × 4 pipeline: worker peak RSS within the manifests' memory limit"]).toBe(
      'not measured',
    );
    expect(
      verdicts[
        'release growth with participants no worse than linear (issue 5: p50 / participants never rises)'
      ],
    ).toBe('missed');
  });

  it('checks the same-N ratios at every participant count and names the counts that miss', () => {
    const quietP50 = 'release p50 ≤ 1.25 × the same-N floor p50, from quiet, at every N from 2 to 500';
    expect(verdicts[quietP50]).toBe('missed');
    expect(measured[quietP50]).toBe('2: 1.14×, 10: 1.12×, 50: 1.5× ✗ (missed at 50)');
    expect(verdicts['release p99 ≤ 1.5 × the same-N floor p99, from quiet, at every N from 2 to 500']).toBe(
      'holds',
    );
    expect(
      verdicts['release p50 ≤ 1.25 × the same-N floor p50, back-to-back, at every N from 2 to 500'],
    ).toBe('holds');
    expect(verdicts['release p99 ≤ 1.5 × the same-N floor p99, back-to-back, at every N from 2 to 500']).toBe(
      'holds',
    );
    const b2b = 'back-to-back release p50 ≤ 1.5 × the from-quiet p50 at the same N';
    expect(verdicts[b2b]).toBe('missed'); // 50 / 28 at 10
    expect(measured[b2b]).toBe('2: 1.2×, 10: 1.79× ✗ (missed at 10)');
  });

  it('judges release against the same-N floor from 2 to 500 participants only, and shows the rest', () => {
    const big = { participants: 2000, p50Ms: 3000, p99Ms: 9000, floorP50Ms: 1000, floorP99Ms: 3000 };
    const withBig = checkTargets({
      ...results,
      release: [
        ...results.release.filter((r) => r.participants !== 50),
        { ...big, ratioToSameNFloorP50: 3, ratioToFloorP50: 150 },
      ],
    });
    const quiet = withBig.find((c) =>
      c.target.startsWith('release p50 ≤ 1.25 × the same-N floor p50, from quiet'),
    )!;
    expect(quiet.target).toBe(
      'release p50 ≤ 1.25 × the same-N floor p50, from quiet, at every N from 2 to 500',
    );
    expect(quiet).toMatchObject({
      verdict: 'holds',
      measured: "2: 1.14×, 10: 1.12×; not judged, beyond the target's range: 2000: 3×",
    });
  });

  it("judges the 1,000 × 4 worker's peak against the manifests' limit", () => {
    const at = (workerPeakRssMb: number) =>
      checkTargets({
        ...results,
        scale: {
          ...results.scale,
          workflows: 1000,
          workerPeakRssMb,
          workerMemoryLimitMb: 2560,
        },
      }).find((c) => c.target.includes('peak RSS'))!;
    expect(at(2388.3)).toMatchObject({
      verdict: 'holds',
      measured: '2388.3 MiB of 2560 MiB (93.3 %) at 1000 × 4',
    });
    expect(at(2746.6).verdict).toBe('missed');
  });

  it('says not measured when a figure is missing', () => {
    const missing: BenchResults = {
      ...results,
      backToBack: [],
      failurePropagation: { p50Ms: 90, p99Ms: 150, floorP50Ms: null },
      timeoutLateness: { ...results.timeoutLateness, p99Ms: null, rawTimerP99Ms: null },
    };
    const checks = checkTargets(missing);
    expect(checks.find((c) => c.target.startsWith('failure'))!.verdict).toBe('not measured');
    expect(checks.find((c) => c.target.includes('back-to-back, at every N'))!.verdict).toBe('not measured');
    expect(checks.find((c) => c.target.startsWith('timeout'))!.verdict).toBe('not measured');
  });
});

describe('renderMarkdown', () => {
  it('has a row per participant count, the targets and the notes', () => {
    const md = renderMarkdown(results, details);
    expect(md).toContain(
      '| release, 10 participants | 28 ms | 60 ms | 1.12× the same-N floor p50 (25 ms); 1.4× the one-pair floor |',
    );
    expect(md).toContain('| 10 | 28 ms | 60 ms | 25 ms | 50 ms | 1.12× | 1.2× |');
    expect(md).toContain('## Back-to-back release');
    expect(md).toContain(
      '| timeout lateness, one pipeline at a time (outcome − arrival − timeoutMs) | 20 ms | 45 ms |',
    );
    expect(md).toContain(
      '| timeout lateness, under load (outcome − arrival − timeoutMs) | 150 ms | 400 ms |',
    );
    expect(md).toContain('| throughput: database reads | 2000 | 1000 | 2× |');
    expect(md).toContain('| throughput: of which history task-queue reads | 600 | 200 | 3× |');
    expect(md).toContain('| RSS per cached workflow | 2.1 MiB |');
    expect(md).toContain('predicted at most 3308 (history-budget.ts), actual / predicted 0.63');
    expect(md).toContain('## Targets (issue 9)');
    expect(md).toContain('- a note');
    expect(md).not.toContain('## Errors');
  });

  it("shows each pipeline's p50 in the order run: the floor's first and last, Convoy's between", () => {
    const legs = { deliverP50Ms: 1, decideP50Ms: 2, decideP99Ms: 3, transitP50Ms: 4 };
    const withParts: BenchDetails = {
      ...details,
      backToBack: [
        {
          ...legs,
          participants: 10,
          barriers: 8,
          samples: 80,
          ratioToFromQuietP50: 1.8,
          floorRatioToFromQuietP50: 1.6,
          parentTasksFailed: 0,
          floor: { ...legs, samples: 80 },
          partP50Ms: { floor: [41, 39.5], convoy: [48, null] },
        },
      ],
    };
    const md = renderMarkdown(results, withParts);
    expect(md).toContain(
      '| 10 | 50 ms | 90 ms | 40 ms | 80 ms | 1.25× | 1.13× | 8 | 1.8× | 1.6× | floor 41 · Convoy 48, – · floor 39.5 ms |',
    );
  });

  it('writes GFM tables, escaping a | inside a cell', () => {
    const withKinds: BenchDetails = {
      ...details,
      release: [
        {
          participants: 2,
          samples: 2,
          rounds: 1,
          maxMs: 30,
          minQuietGapMs: 900,
          deliverP50Ms: 3,
          decideP50Ms: 4,
          decideP99Ms: 8,
          transitP50Ms: 5,
          kinds: { 'released|late': 2 },
          missing: 0,
          parentTaskMaxMs: 12,
          parentTasksFailed: 0,
          wallSeconds: 9,
          parentHistoryEvents: 40,
          predictedParentHistoryEvents: 60,
          workerPeakRssMb: 300,
          floor: { samples: 2, maxMs: 20, deliverP50Ms: 1, decideP50Ms: 2, decideP99Ms: 3, transitP50Ms: 4 },
        },
      ],
    };
    const md = renderMarkdown(results, withKinds);
    expect(md).toContain(
      '| benchmark | p50 | p99 | other |\n| --------- | --- | --- | ----- |\n| floor: signal',
    );
    expect(md).toContain(
      '| 2 | 3 ms (1 ms) | 4 ms / 8 ms (2 ms / 3 ms) | 5 ms (4 ms) | 900 ms | released\\|late 2 | 0 | 12 ms | 0 | 40 (60) |',
    );
  });
});

describe('renderReleaseChart', () => {
  const svg = renderReleaseChart({ points: results.release, floorP50Ms: 20 });

  it('draws both series, a point per figure and the floor line', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg.match(/<circle/g)).toHaveLength(9);
    expect(svg).toContain('one-pair floor p50 (20 ms)');
    expect(svg).toContain('same-N floor p50');
  });

  it('places participants on a log scale', () => {
    const xs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle">(\d+)<\/text>/g)].map(
      (m) => [Number(m[2]), Number(m[1])],
    );
    const x = Object.fromEntries(xs) as Record<number, number>;
    // log10(10/2) ≈ 0.70 and log10(50/10) ≈ 0.70: equal steps.
    expect(x[10]! - x[2]!).toBeCloseTo(x[50]! - x[10]!, 0);
  });

  it('skips missing figures and escapes text', () => {
    const partial = renderReleaseChart({
      points: [{ participants: 2, p50Ms: null, p99Ms: 5 }],
      title: 'a < b',
    });
    expect(partial.match(/<circle/g)).toHaveLength(1);
    expect(partial).toContain('a &lt; b');
  });

  it('draws the latency axis in decades by default, linear on request', () => {
    expect(svg).toContain('ms, log scale');
    expect(svg).toMatch(/>1000<\/text>/);
    const linear = renderReleaseChart({ points: results.release, floorP50Ms: 20, yScale: 'linear' });
    expect(linear).not.toContain('ms, log scale');
    expect(linear).toMatch(/>0<\/text>/);
  });

  it('ticks a log axis at 1, 2 and 5 times each power of ten', () => {
    expect(logTicks(10, 1000)).toEqual([10, 20, 50, 100, 200, 500, 1000]);
    expect(logTicks(1, 1)).toEqual([1]);
  });

  it('picks round axis steps', () => {
    expect(niceAxis(537)).toEqual({ top: 600, step: 200 });
    expect(niceAxis(95)).toEqual({ top: 100, step: 20 });
    expect(niceAxis(0)).toEqual({ top: 1, step: 0.2 });
  });
});

describe('parseStatusFieldMb', () => {
  it('reads VmHWM and VmRSS in MiB', () => {
    const status = 'Name:\tnode\nVmHWM:\t  524288 kB\nVmRSS:\t  262144 kB\n';
    expect(parseStatusFieldMb(status, 'VmHWM')).toBe(512);
    expect(parseStatusFieldMb(status, 'VmRSS')).toBe(256);
    expect(parseStatusFieldMb('Name:\tnode\n', 'VmHWM')).toBeUndefined();
  });
});

describe('parseCpuSeconds', () => {
  it('adds utime and stime, counting fields after the command name', () => {
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1234 0 0';
    expect(parseCpuSeconds(stat)).toBe(3);
    expect(parseCpuSeconds('garbage')).toBeUndefined();
  });
});
