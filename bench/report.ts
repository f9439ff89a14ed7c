/**
 * The results document (bench/results/latest.json), its Markdown rendering and the check of
 * issue 5's targets. Pure.
 */
import json2md from 'json2md';
import { ratio } from './stats';

/** The machine the figures came from. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  temporalCli: string;
  os: string;
}

/** bench/results/latest.json, exactly the shape issue 5 asks for. Figures are null when a benchmark failed. */
export interface BenchResults {
  machine: MachineInfo;
  floor: { p50Ms: number | null; p99Ms: number | null };
  release: {
    participants: number;
    p50Ms: number | null;
    p99Ms: number | null;
    ratioToFloorP50: number | null;
  }[];
  failurePropagation: { p50Ms: number | null; p99Ms: number | null };
  timeoutLateness: { p50Ms: number | null; p99Ms: number | null; maxMs: number | null; samples: number };
  scale: {
    workflows: number;
    barriersPerWorkflow: number;
    wallSeconds: number | null;
    parentHistoryEvents: number | null;
    workerPeakRssMb: number | null;
  };
  throughput: { pipelines: number; pipelinesPerMinute: number | null };
}

/** What the Markdown report adds to the JSON: sample counts, breakdowns, notes, errors. */
export interface BenchDetails {
  mode: 'quick' | 'full';
  startedAt: string;
  durationSeconds: number;
  floor?: {
    rounds: number;
    samples: number;
    maxMs: number;
    /** The same pair exchanging signals back-to-back, without a pause between rounds. */
    backToBack: { samples: number; p50Ms: number; p99Ms: number };
    timers: { requestedMs: number; firedAfterMs: number }[];
  };
  release: {
    participants: number;
    samples: number;
    rounds: number;
    maxMs: number;
    /** Smallest quiet gap before a last arrival (ms): small means the coordinator was still busy. */
    minQuietGapMs: number;
    deliverP50Ms: number;
    decideP50Ms: number;
    decideP99Ms: number;
    transitP50Ms: number;
    kinds: Record<string, number>;
    missing: number;
    /** The coordinator's workflow tasks: slowest (ms) and how many the server failed. */
    parentTaskMaxMs: number;
    parentTasksFailed: number;
  }[];
  failure?: {
    pipelines: number;
    samples: number;
    fromAbandonP50Ms: number;
    fromAbandonP99Ms: number;
    maxMs: number;
    kinds: Record<string, number>;
    missing: number;
  };
  timeout?: {
    pipelines: number;
    fromPayloadP50Ms: number;
    fromPayloadP99Ms: number;
    fromPayloadMaxMs: number;
    minMs: number;
    kinds: Record<string, number>;
    /** Lateness split by the barrier's timeoutMs: below one second, and from one second up. */
    byTimeout: {
      range: string;
      samples: number;
      p50Ms: number;
      p99Ms: number;
      maxMs: number;
      /** p50 of each leg: server timer late, parent's workflow task, signal transit. */
      timerP50Ms: number;
      decideP50Ms: number;
      transitP50Ms: number;
    }[];
  };
  scale?: {
    status: string;
    parentHistoryWarn: number;
    parentHistoryLimit: number;
    childEventsMax: number;
    parentEventsByType: Record<string, number>;
    workerBaselineRssMb: number | null;
    parentTasks: number;
    parentTaskP50Ms: number;
    parentTaskMaxMs: number;
    parentTasksFailed: Record<string, number>;
    cpu: { serverSeconds: number | null; workerSeconds: number | null };
  };
  throughput?: {
    wallSeconds: number;
    statuses: Record<string, number>;
    cpu: { serverSeconds: number | null; workerSeconds: number | null };
  };
  notes: string[];
  errors: { benchmark: string; message: string }[];
}

export interface TargetCheck {
  target: string;
  measured: string;
  verdict: 'holds' | 'missed' | 'not measured';
}

const fmt = (v: number | null | undefined, unit = ''): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v}${unit}`;

/** Issue 5's targets against the figures. */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const floor = results.floor.p50Ms;
  const at10 = results.release.find((r) => r.participants === 10);
  const r10 = at10 && floor !== null && at10.p50Ms !== null ? ratio(at10.p50Ms, floor) : null;
  checks.push({
    target: 'release p50 at 10 participants ≤ 1.5 × floor p50',
    measured: r10 === null ? '–' : `${at10!.p50Ms} ms = ${r10} × floor (${floor} ms)`,
    verdict: r10 === null ? 'not measured' : r10 <= 1.5 ? 'holds' : 'missed',
  });
  const measured = results.release.filter((r) => r.p50Ms !== null && r.participants > 0);
  if (measured.length >= 2) {
    // Linear growth a + b·n keeps p50/n from rising; anything steeper makes it rise at large n.
    const perParticipant = measured.map((r) => r.p50Ms! / r.participants);
    let worst = 0;
    for (let i = 1; i < perParticipant.length; i++)
      worst = Math.max(worst, perParticipant[i]! / perParticipant[i - 1]!);
    checks.push({
      target: 'release growth with participants no worse than linear (p50 / participants never rises)',
      measured:
        measured.map((r) => `${r.participants}: ${(r.p50Ms! / r.participants).toFixed(2)}`).join(', ') +
        ' ms per participant',
      verdict: worst <= 1.1 ? 'holds' : 'missed',
    });
  } else {
    checks.push({ target: 'release growth no worse than linear', measured: '–', verdict: 'not measured' });
  }
  const t = results.timeoutLateness;
  checks.push({
    target: 'timeout lateness p99 ≤ 250 ms',
    measured: t.p99Ms === null ? '–' : `p99 ${t.p99Ms} ms (max ${t.maxMs} ms, ${t.samples} barriers)`,
    verdict: t.p99Ms === null ? 'not measured' : t.p99Ms <= 250 ? 'holds' : 'missed',
  });
  const f = results.failurePropagation.p50Ms;
  const rf = f !== null && floor !== null ? ratio(f, floor) : null;
  checks.push({
    target: 'failure propagation p50 ≤ 1.5 × floor p50',
    measured: rf === null ? '–' : `${f} ms = ${rf} × floor`,
    verdict: rf === null ? 'not measured' : rf <= 1.5 ? 'holds' : 'missed',
  });
  const s = results.scale;
  const full = s.workflows >= 500 && s.barriersPerWorkflow >= 4;
  checks.push({
    target: '500 × 4 pipeline under 10,240 parent history events',
    measured:
      s.parentHistoryEvents === null
        ? '–'
        : `${s.parentHistoryEvents} events at ${s.workflows} × ${s.barriersPerWorkflow}` +
          (full
            ? ''
            : ` (≈ ${Math.round((s.parentHistoryEvents * 500) / s.workflows)} extrapolated to 500 × 4)`),
    verdict:
      s.parentHistoryEvents === null
        ? 'not measured'
        : full
          ? s.parentHistoryEvents < 10_240
            ? 'holds'
            : 'missed'
          : (s.parentHistoryEvents * 500) / s.workflows < 10_240
            ? 'holds'
            : 'missed',
  });
  return checks;
}

/** A GFM table as lines: json2md writes the header and delimiter rows and escapes `|` in cells. */
function table(headers: string[], rows: string[][]): string[] {
  return json2md({ table: { headers, rows } }).trimEnd().split('\n');
}

/** bench/results/latest.md */
export function renderMarkdown(results: BenchResults, details: BenchDetails): string {
  const m = results.machine;
  const lines: string[] = [];
  lines.push(`# Convoy benchmarks (${details.mode} run)`, '');
  lines.push(
    `Run ${details.startedAt}, ${Math.round(details.durationSeconds)} s, on ${m.cpuModel} (${m.cores} cores), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, ${m.temporalCli}, ${m.os}. Embedded Temporal dev server (in-memory SQLite), worker in its own process, ` +
      'all on 127.0.0.1. Times are differences of history event timestamps (one server clock); percentiles are nearest-rank.',
    '',
  );
  const summary: string[][] = [
    [
      'floor: signal child → parent → child',
      fmt(results.floor.p50Ms, ' ms'),
      fmt(results.floor.p99Ms, ' ms'),
      details.floor
        ? `${details.floor.samples} round trips, each after a 1 s timer; max ${details.floor.maxMs} ms`
        : '',
    ],
  ];
  if (details.floor) {
    const b = details.floor.backToBack;
    summary.push([
      'floor, back-to-back rounds (no pause)',
      fmt(b.p50Ms, ' ms'),
      fmt(b.p99Ms, ' ms'),
      `${b.samples} round trips; not the floor, see notes`,
    ]);
  }
  for (const r of results.release) {
    const d = details.release.find((x) => x.participants === r.participants);
    summary.push([
      `release, ${r.participants} participants`,
      fmt(r.p50Ms, ' ms'),
      fmt(r.p99Ms, ' ms'),
      `${fmt(r.ratioToFloorP50, '×')} floor p50${d ? `; ${d.samples} samples over ${d.rounds} barriers, max ${d.maxMs} ms` : ''}`,
    ]);
  }
  const f = details.failure;
  summary.push([
    "failure propagation (failing step → peers' outcome)",
    fmt(results.failurePropagation.p50Ms, ' ms'),
    fmt(results.failurePropagation.p99Ms, ' ms'),
    f
      ? `${f.samples} peers over ${f.pipelines} pipelines; from the abandon signal: p50 ${f.fromAbandonP50Ms} ms, p99 ${f.fromAbandonP99Ms} ms`
      : '',
  ]);
  const t = results.timeoutLateness;
  summary.push([
    'timeout lateness (outcome − arrival − timeoutMs)',
    fmt(t.p50Ms, ' ms'),
    fmt(t.p99Ms, ' ms'),
    `max ${fmt(t.maxMs, ' ms')}, ${t.samples} barriers${details.timeout ? `; against the arrivedAt payload: p50 ${details.timeout.fromPayloadP50Ms} ms, p99 ${details.timeout.fromPayloadP99Ms} ms, max ${details.timeout.fromPayloadMaxMs} ms` : ''}`,
  ]);
  lines.push('## Summary', '', ...table(['benchmark', 'p50', 'p99', 'other'], summary), '');
  const s = results.scale;
  lines.push(
    '## Scale and throughput',
    '',
    ...table(
      ['measure', 'value'],
      [
        [
          'scale pipeline',
          `${s.workflows} workflows × ${s.barriersPerWorkflow} barriers${details.scale ? ` (${details.scale.status})` : ''}`,
        ],
        ['wall time', fmt(s.wallSeconds, ' s')],
        ['parent history events', `${fmt(s.parentHistoryEvents)} (server warns at 10,240, limit 51,200)`],
        [
          'worker peak RSS (VmHWM)',
          `${fmt(s.workerPeakRssMb, ' MiB')}${details.scale ? ` (${fmt(details.scale.workerBaselineRssMb, ' MiB')} when it started polling)` : ''}`,
        ],
        ...(details.scale
          ? [
              [
                'parent events by type',
                Object.entries(details.scale.parentEventsByType)
                  .map(([type, n]) => `${type} ${n}`)
                  .join(', '),
              ],
              [
                'parent workflow tasks',
                `${details.scale.parentTasks}, p50 ${details.scale.parentTaskP50Ms} ms, slowest ${details.scale.parentTaskMaxMs} ms on the worker; ` +
                  `failed by the server: ${
                    Object.entries(details.scale.parentTasksFailed)
                      .map(([cause, n]) => `${n} × ${cause}`)
                      .join(', ') || 'none'
                  }`,
              ],
              ['largest child history (of 5 sampled)', `${details.scale.childEventsMax} events`],
              [
                'CPU during the scale run',
                `server ${fmt(details.scale.cpu.serverSeconds, ' s')}, worker ${fmt(details.scale.cpu.workerSeconds, ' s')} (of ${fmt(s.wallSeconds === null ? null : s.wallSeconds * m.cores, ' s')} on ${m.cores} cores)`,
              ],
            ]
          : []),
        [
          'throughput',
          `${results.throughput.pipelines} concurrent pipelines of 10 workflows × 2 barriers: ${fmt(results.throughput.pipelinesPerMinute)} pipelines/min` +
            `${details.throughput ? ` (${details.throughput.wallSeconds} s wall; CPU: server ${fmt(details.throughput.cpu.serverSeconds, ' s')}, worker ${fmt(details.throughput.cpu.workerSeconds, ' s')})` : ''}`,
        ],
      ],
    ),
    '',
  );
  if (details.timeout?.byTimeout.length) {
    lines.push(
      '## Timeout lateness by timeoutMs',
      '',
      "Lateness split into legs: the parent's timer fired after the deadline (server timer), the parent's workflow task then initiated the outcome (decide), and the outcome reached the waiter (transit).",
      '',
      ...table(
        ['barrier timeoutMs', 'barriers', 'p50', 'p99', 'max', 'timer p50', 'decide p50', 'transit p50'],
        details.timeout.byTimeout.map((b) => [
          b.range,
          String(b.samples),
          fmt(b.p50Ms, ' ms'),
          fmt(b.p99Ms, ' ms'),
          fmt(b.maxMs, ' ms'),
          fmt(b.timerP50Ms, ' ms'),
          fmt(b.decideP50Ms, ' ms'),
          fmt(b.transitP50Ms, ' ms'),
        ]),
      ),
      '',
    );
  }
  if (details.floor?.timers.length) {
    lines.push(
      '## Server timer precision',
      '',
      'One workflow sleeping each duration in turn; TimerStarted → TimerFired in its history. Barrier timeouts and `wait` steps ride on these timers.',
      '',
      ...table(
        ['requested', 'fired after', 'late by'],
        details.floor.timers.map((timer) => [
          `${timer.requestedMs} ms`,
          `${timer.firedAfterMs} ms`,
          `${Math.round((timer.firedAfterMs - timer.requestedMs) * 10) / 10} ms`,
        ]),
      ),
      '',
    );
  }
  if (details.release.length) {
    lines.push(
      '## Where release time goes',
      '',
      'Per barrier: the last arrival is delivered to the parent (child sends → parent receives), the parent decides and ' +
        'initiates one outcome signal per participant, and each outcome travels to its child. The quiet gap is the time ' +
        'between the last two arrivals: the coordinator should be idle when the last one comes.',
      '',
      ...table(
        [
          'participants',
          'deliver p50',
          'decide p50 / p99',
          'transit p50',
          'min quiet gap',
          'outcomes',
          'missing',
          'slowest coordinator task',
          'coordinator tasks failed',
        ],
        details.release.map((d) => [
          String(d.participants),
          fmt(d.deliverP50Ms, ' ms'),
          `${fmt(d.decideP50Ms, ' ms')} / ${fmt(d.decideP99Ms, ' ms')}`,
          fmt(d.transitP50Ms, ' ms'),
          fmt(d.minQuietGapMs, ' ms'),
          Object.entries(d.kinds)
            .map(([k, n]) => `${k} ${n}`)
            .join(', '),
          String(d.missing),
          fmt(d.parentTaskMaxMs, ' ms'),
          String(d.parentTasksFailed),
        ]),
      ),
      '',
    );
  }
  lines.push(
    '## Targets (issue 5)',
    '',
    ...table(
      ['target', 'measured', 'verdict'],
      checkTargets(results).map((c) => [c.target, c.measured, c.verdict]),
    ),
    '',
  );
  if (details.notes.length) {
    lines.push('## Notes', '');
    for (const n of details.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  if (details.errors.length) {
    lines.push('## Errors', '');
    for (const e of details.errors) lines.push(`- **${e.benchmark}**: ${e.message.replace(/\n/g, ' ')}`);
    lines.push('');
  }
  lines.push('Reproduce: `npm run bench` (add `-- --quick` for the short run).', '');
  return lines.join('\n');
}
