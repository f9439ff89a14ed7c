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
    { participants: 2, p50Ms: 25, p99Ms: 50, ratioToFloorP50: 1.25 },
    { participants: 10, p50Ms: 28, p99Ms: 60, ratioToFloorP50: 1.4 },
    { participants: 50, p50Ms: 300, p99Ms: 500, ratioToFloorP50: 15 },
  ],
  failurePropagation: { p50Ms: 90, p99Ms: 150 },
  timeoutLateness: { p50Ms: 40, p99Ms: 200, maxMs: 210, samples: 50 },
  scale: {
    workflows: 100,
    barriersPerWorkflow: 4,
    wallSeconds: 12,
    parentHistoryEvents: 2100,
    workerPeakRssMb: 400,
  },
  throughput: { pipelines: 10, pipelinesPerMinute: 60 },
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
  const verdicts = Object.fromEntries(
    checkTargets(results).map((c) => [c.target.split(' ')[0] + ' ' + c.target.split(' ')[1], c.verdict]),
  );

  it('judges each target of issue 5', () => {
    expect(verdicts['release p50']).toBe('holds'); // 1.4 × floor
    expect(verdicts['release growth']).toBe('missed'); // 25/2 → 2.8 → 6 ms per participant: rises
    expect(verdicts['timeout lateness']).toBe('holds');
    expect(verdicts['failure propagation']).toBe('missed'); // 4.5 × floor
    expect(verdicts['500 ×']).toBe('missed'); // 2100 × 5 = 10,500 extrapolated
  });

  it('says not measured when a figure is missing', () => {
    const missing = {
      ...results,
      floor: { p50Ms: null, p99Ms: null },
      timeoutLateness: { p50Ms: null, p99Ms: null, maxMs: null, samples: 0 },
    };
    const checks = checkTargets(missing);
    expect(checks.find((c) => c.target.startsWith('release p50'))!.verdict).toBe('not measured');
    expect(checks.find((c) => c.target.startsWith('timeout'))!.verdict).toBe('not measured');
  });
});

describe('renderMarkdown', () => {
  it('has a row per participant count, the targets and the notes', () => {
    const md = renderMarkdown(results, details);
    expect(md).toContain('| release, 10 participants | 28 ms | 60 ms | 1.4× floor p50');
    expect(md).toContain('## Targets (issue 5)');
    expect(md).toContain('- a note');
    expect(md).not.toContain('## Errors');
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
        },
      ],
    };
    const md = renderMarkdown(results, withKinds);
    expect(md).toContain(
      '| benchmark | p50 | p99 | other |\n| --------- | --- | --- | ----- |\n| floor: signal',
    );
    expect(md).toContain('| 2 | 3 ms | 4 ms / 8 ms | 5 ms | 900 ms | released\\|late 2 | 0 | 12 ms | 0 |');
  });
});

describe('renderReleaseChart', () => {
  const svg = renderReleaseChart({ points: results.release, floorP50Ms: 20 });

  it('draws both series, a point per figure and the floor line', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(6);
    expect(svg).toContain('floor p50 (20 ms)');
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
