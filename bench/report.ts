/**
 * The results document (bench/results/latest.json), its Markdown rendering and the check of
 * issue 5's targets. Pure.
 */
import json2md from 'json2md';
import type { StepMemory } from './step-memory';
import type { ReleaseLegs } from './analysis';
import { isReadOperation } from './prometheus';
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

/** Convoy's release latency at one participant count next to the raw floor's at the same count. */
export interface ReleaseRow {
  participants: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** The raw N-way barrier (bench/floor-workflows.ts) at the same count, same worker, same run. */
  floorP50Ms: number | null;
  floorP99Ms: number | null;
  ratioToSameNFloorP50: number | null;
}

/** What the server did during one interval: CPU seconds and database requests. */
export interface ServerCost {
  cpuSeconds: number | null;
  /** Persistence requests that read (Get…, List…, Read…) and the others. */
  dbReads: number | null;
  dbWrites: number | null;
  /** The reads of the history service's task queues (GetTransferTasks, GetTimerTasks, …): what the poll limits bound. */
  historyTaskReads: number | null;
}

/** One dev server's cost at idle and during a throughput run. */
export interface SettingsCost {
  idle: ServerCost;
  throughput: ServerCost & { pipelinesPerMinute: number | null };
}

/** Timeout lateness (outcome − arrival − timeoutMs) and its floors. */
export interface TimeoutLateness {
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  samples: number;
  /** A raw timer of each barrier's timeoutMs, started with it: TimerFired − TimerStarted − timeoutMs. */
  rawTimerP50Ms: number | null;
  rawTimerP99Ms: number | null;
  /**
   * A raw coordinator timing out a waiter of the same timeoutMs, started with each barrier
   * (bench/floor-workflows.ts `rawTimeoutParent`): the same measure, with no Convoy code.
   */
  rawCoordinatorP50Ms: number | null;
  rawCoordinatorP99Ms: number | null;
}

/**
 * bench/results/latest.json: the shape issue 5 asked for, with issue 9's additions. Figures are
 * null when a benchmark failed.
 */
export interface BenchResults {
  machine: MachineInfo;
  /** The one-pair floor (child → parent → child), the reference line since issue 5. */
  floor: { p50Ms: number | null; p99Ms: number | null };
  /** From quiet; `ratioToFloorP50` is against the one-pair floor. */
  release: (ReleaseRow & { ratioToFloorP50: number | null })[];
  /** Barriers crossed back-to-back, each right after the one before released. */
  backToBack: ReleaseRow[];
  failurePropagation: { p50Ms: number | null; p99Ms: number | null; floorP50Ms: number | null };
  /** Barrier timeouts with one timeout pipeline in flight at a time: the timers' precision. */
  timeoutLateness: TimeoutLateness;
  /** The same with about ten in flight on the 2-core machine (bench/convoy-scenarios.ts `TimeoutLoad`). */
  timeoutLatenessUnderLoad?: TimeoutLateness;
  scale: {
    workflows: number;
    barriersPerWorkflow: number;
    wallSeconds: number | null;
    parentHistoryEvents: number | null;
    workerPeakRssMb: number | null;
    /** The memory limit of the manifests' worker pod, which the scale worker is sized for (MiB). */
    workerMemoryLimitMb?: number;
    /** Last arrival → released, over every barrier of the pipeline. */
    releaseP50Ms: number | null;
    releaseP99Ms: number | null;
    /** `predictParentHistoryEvents(plan.stages).events` (src/pipeline-file/history-budget.ts). */
    predictedParentHistoryEvents: number | null;
    /** parentHistoryEvents / predictedParentHistoryEvents: at most 1 if the prediction is a bound. */
    parentHistoryToPredicted: number | null;
  };
  throughput: { pipelines: number; pipelinesPerMinute: number | null };
  /** The shipped dynamic config (config/temporal/dynamic-config.yaml) against the server's defaults. */
  serverSettings: {
    idleSeconds: number;
    throughputPipelines: number;
    shipped: SettingsCost | null;
    defaults: SettingsCost | null;
  };
  /** Growth of the worker's resident set, and the largest measured shell step's process group. */
  memory: {
    rssPerCachedWorkflowMb: number | null;
    rssPerInFlightPipelineMb: number | null;
    stepRssMb: number | null;
    stepPrivateMb: number | null;
  };
  /**
   * A release train of independent pipelines (issue 14), from quiet, against the raw floor of the
   * same size (N raw workflows signalling one raw coordinator). Absent until measured.
   */
  train?: {
    pipelines: number;
    p50Ms: number | null;
    p99Ms: number | null;
    floorP50Ms: number | null;
    floorP99Ms: number | null;
    ratioToSameNFloorP50: number | null;
  };
}

/** A worker's resident set before and while workflows sat in its cache. */
export interface MemoryDetail {
  pipelines: number;
  workflows: number;
  beforeRssMb: number | null;
  whileCachedRssMb: number | null;
}

/** Timeout lateness split by timeoutMs and into legs. */
export interface TimeoutDetails {
  pipelines: number;
  fromPayloadP50Ms: number;
  fromPayloadP99Ms: number;
  fromPayloadMaxMs: number;
  minMs: number;
  kinds: Record<string, number>;
  /** Lateness split by the barrier's timeoutMs. */
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
    /** p50 and p99 of the arming task's run time (the timer fires that much late) and of the server's own timer lateness. */
    armP50Ms: number;
    armP99Ms: number;
    serverTimerP50Ms: number;
    /** The raw timers of the same timeouts. */
    rawTimerP50Ms: number;
    rawTimerP99Ms: number;
    /** The raw coordinators of the same timeouts: lateness, and their arming and deciding tasks. */
    rawCoordinatorP50Ms: number;
    rawCoordinatorP99Ms: number;
    rawArmP99Ms: number;
    rawDecideP50Ms: number;
  }[];
}

/** Each pipeline's p50 of a release row, in the order they ran: the floor's first and last, Convoy's between. */
export interface PartP50s {
  floor: (number | null)[];
  convoy: (number | null)[];
}

/** What the Markdown report adds to the JSON: sample counts, breakdowns, notes, errors. */
export interface BenchDetails {
  mode: 'quick' | 'full';
  train?: {
    pipelines: number;
    rounds: number;
    samples: number;
    maxMs: number;
    minQuietGapMs: number;
    kinds: Record<string, number>;
    workerPeakRssMb: number | null;
    floor: { samples: number; maxMs: number };
  };
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
  release: (ReleaseLegs & {
    participants: number;
    samples: number;
    rounds: number;
    maxMs: number;
    /** Smallest quiet gap before a last arrival (ms): small means the coordinator was still busy. */
    minQuietGapMs: number;
    kinds: Record<string, number>;
    missing: number;
    /** The coordinator's workflow tasks: slowest (ms) and how many the server failed. */
    parentTaskMaxMs: number;
    parentTasksFailed: number;
    /** The pipeline: parent started → closed, its history against the prediction, the worker's peak so far. */
    wallSeconds: number;
    parentHistoryEvents: number;
    predictedParentHistoryEvents: number;
    workerPeakRssMb: number | null;
    /** The same-N floor's legs and samples. */
    floor: ReleaseLegs & { samples: number; maxMs: number };
    /** Each pipeline's p50 in the order run (floor, Convoy, Convoy, floor): the drift ABBA cancels. */
    partP50Ms?: PartP50s;
  })[];
  backToBack?: (ReleaseLegs & {
    participants: number;
    barriers: number;
    samples: number;
    /** Back-to-back p50 / from-quiet p50 at the same count, Convoy's and the floor's. */
    ratioToFromQuietP50: number | null;
    floorRatioToFromQuietP50: number | null;
    parentTasksFailed: number;
    floor: ReleaseLegs & { samples: number };
    partP50Ms?: PartP50s;
  })[];
  failure?: {
    pipelines: number;
    samples: number;
    fromAbandonP50Ms: number;
    fromAbandonP99Ms: number;
    maxMs: number;
    kinds: Record<string, number>;
    missing: number;
    floor: { samples: number; p99Ms: number; fromAbandonP50Ms: number; kinds: Record<string, number> };
  };
  /** Timeout lateness one pipeline at a time, and under load. */
  timeout?: TimeoutDetails;
  timeoutUnderLoad?: TimeoutDetails;
  scale?: {
    status: string;
    parentHistoryWarn: number;
    parentHistoryLimit: number;
    childEventsMax: number;
    parentEventsByType: Record<string, number>;
    workerBaselineRssMb: number | null;
    /** The memory limit of the manifests' worker pod, which the worker was sized for (MiB). */
    workerMemoryLimitMb?: number;
    /** The cache the sizing rule gave the worker for that limit. */
    workerCachedWorkflows?: number;
    parentTasks: number;
    parentTaskP50Ms: number;
    parentTaskMaxMs: number;
    parentTasksFailed: Record<string, number>;
    releaseSamples: number;
    cpu: { serverSeconds: number | null; workerSeconds: number | null };
  };
  throughput?: {
    wallSeconds: number;
    statuses: Record<string, number>;
    cpu: { serverSeconds: number | null; workerSeconds: number | null };
  };
  serverSettings?: {
    /** The shipped values; the defaults run leaves them all to the server. */
    shipped: Record<string, string | number | boolean>;
    /** Database requests by operation (largest first), at idle and during the throughput run, per server. */
    byOperation: Record<'idle' | 'throughput', Record<'shipped' | 'defaults', Record<string, number>>>;
  };
  memory?: { cached?: MemoryDetail; inFlight?: MemoryDetail; steps?: StepMemory[] };
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

/** `a / b` for figures that may be missing. */
const ratioOf = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined ? null : ratio(a, b);

const verdict = (measured: boolean, holds: boolean): TargetCheck['verdict'] =>
  !measured ? 'not measured' : holds ? 'holds' : 'missed';

/**
 * A target every participant count must meet: `value(row)` is the ratio measured at that count
 * (null when not measured), at most `limit`. Measured lists each count's ratio, marking misses.
 */
function everyCount<R extends { participants: number }>(
  target: string,
  rows: readonly R[],
  value: (row: R) => number | null,
  limit: number,
  maxParticipants = Infinity,
): TargetCheck {
  const measured = rows.flatMap((r) => {
    const v = value(r);
    return v === null ? [] : [{ n: r.participants, v }];
  });
  const judged = measured.filter((m) => m.n <= maxParticipants);
  const missed = judged.filter((m) => m.v > limit);
  const beyond = measured.filter((m) => m.n > maxParticipants);
  return {
    target,
    measured: !judged.length
      ? '–'
      : judged.map((m) => `${m.n}: ${m.v}×${m.v > limit ? ' ✗' : ''}`).join(', ') +
        (missed.length ? ` (missed at ${missed.map((m) => m.n).join(', ')})` : '') +
        (beyond.length
          ? `; not judged, beyond the target's range: ${beyond.map((m) => `${m.n}: ${m.v}×`).join(', ')}`
          : ''),
    verdict: verdict(judged.length > 0, missed.length === 0),
  };
}

/** Issue 9 judges release against the same-N floor for every N from 2 to this. */
export const RELEASE_TARGET_MAX_PARTICIPANTS = 500;

/** The parent-history target's pipeline size (issue 9). */
export const HISTORY_TARGET = { workflows: 1000, barriers: 4, events: 20_000 } as const;

/** Issue 9's targets against the figures (and issue 5's linear growth). */
export function checkTargets(results: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const t = results.timeoutLateness;
  checks.push({
    target: 'timeout lateness p99 ≤ 50 ms over barrier timeouts of 100 ms–5 s (one pipeline at a time)',
    measured: t.p99Ms === null ? '–' : `p99 ${t.p99Ms} ms (max ${t.maxMs} ms, ${t.samples} barriers)`,
    verdict: verdict(t.p99Ms !== null, (t.p99Ms ?? 0) <= 50),
  });
  const rt = ratioOf(t.p99Ms, t.rawTimerP99Ms);
  checks.push({
    target: "timeout lateness p99 ≤ 1.2 × a raw timer's lateness p99",
    measured: rt === null ? '–' : `${t.p99Ms} ms = ${rt} × raw timer (${t.rawTimerP99Ms} ms)`,
    verdict: verdict(rt !== null, (rt ?? 0) <= 1.2),
  });
  // The raw timer leaves out what every coordinator pays after its timer fires (a workflow task,
  // a signal): the raw coordinator of the same timeouts is the floor of the whole measure.
  for (const [load, lateness] of [
    ['one pipeline at a time', t],
    ['under load', results.timeoutLatenessUnderLoad],
  ] as const) {
    for (const p of ['p50', 'p99'] as const) {
      const convoy = lateness?.[`${p}Ms`] ?? null;
      const raw = lateness?.[p === 'p50' ? 'rawCoordinatorP50Ms' : 'rawCoordinatorP99Ms'] ?? null;
      const ratio = ratioOf(convoy, raw);
      checks.push({
        target: `timeout lateness ${p} ≤ 1.2 × a raw coordinator's lateness ${p}, ${load}`,
        measured: ratio === null ? '–' : `${convoy} ms = ${ratio} × raw coordinator (${raw} ms)`,
        verdict: verdict(ratio !== null, (ratio ?? 0) <= 1.2),
      });
    }
  }
  for (const [when, rows] of [
    ['from quiet', results.release],
    ['back-to-back', results.backToBack],
  ] as const) {
    checks.push(
      everyCount(
        `release p50 ≤ 1.25 × the same-N floor p50, ${when}, at every N from 2 to ${RELEASE_TARGET_MAX_PARTICIPANTS}`,
        rows,
        (r) => r.ratioToSameNFloorP50,
        1.25,
        RELEASE_TARGET_MAX_PARTICIPANTS,
      ),
      everyCount(
        `release p99 ≤ 1.5 × the same-N floor p99, ${when}, at every N from 2 to ${RELEASE_TARGET_MAX_PARTICIPANTS}`,
        rows,
        (r) => ratioOf(r.p99Ms, r.floorP99Ms),
        1.5,
        RELEASE_TARGET_MAX_PARTICIPANTS,
      ),
    );
  }
  checks.push(
    everyCount(
      'back-to-back release p50 ≤ 1.5 × the from-quiet p50 at the same N',
      results.backToBack,
      (r) => ratioOf(r.p50Ms, results.release.find((q) => q.participants === r.participants)?.p50Ms),
      1.5,
    ),
  );
  const f = results.failurePropagation;
  const rf = ratioOf(f.p50Ms, f.floorP50Ms);
  checks.push({
    target: 'failure propagation p50 ≤ 1.25 × its floor p50',
    measured: rf === null ? '–' : `${f.p50Ms} ms = ${rf} × floor (${f.floorP50Ms} ms)`,
    verdict: verdict(rf !== null, (rf ?? 0) <= 1.25),
  });
  const s = results.scale;
  const { workflows, barriers, events } = HISTORY_TARGET;
  const atSize = s.workflows >= workflows && s.barriersPerWorkflow >= barriers;
  const scaled = s.parentHistoryEvents === null ? null : (s.parentHistoryEvents * workflows) / s.workflows;
  checks.push({
    target: `${workflows.toLocaleString('en')} × ${barriers} pipeline: parent history under ${events.toLocaleString('en')} events`,
    measured:
      s.parentHistoryEvents === null
        ? '–'
        : `${s.parentHistoryEvents} events at ${s.workflows} × ${s.barriersPerWorkflow}` +
          (atSize ? '' : ` (≈ ${Math.round(scaled!)} extrapolated to ${workflows} × ${barriers})`),
    verdict: verdict(scaled !== null, (atSize ? s.parentHistoryEvents! : scaled!) < events),
  });
  const limitMb = s.workerMemoryLimitMb;
  checks.push({
    target: `${workflows.toLocaleString('en')} × ${barriers} pipeline: worker peak RSS within the manifests' memory limit`,
    measured:
      s.workerPeakRssMb === null || limitMb === undefined
        ? '–'
        : `${s.workerPeakRssMb} MiB of ${limitMb} MiB (${Math.round((s.workerPeakRssMb / limitMb) * 1000) / 10} %) at ${s.workflows} × ${s.barriersPerWorkflow}`,
    verdict: verdict(
      s.workerPeakRssMb !== null && limitMb !== undefined && atSize,
      (s.workerPeakRssMb ?? Infinity) <= (limitMb ?? 0),
    ),
  });
  const measured = results.release.filter((r) => r.p50Ms !== null && r.participants > 0);
  if (measured.length >= 2) {
    // Linear growth a + b·n keeps p50/n from rising; anything steeper makes it rise at large n.
    const perParticipant = measured.map((r) => r.p50Ms! / r.participants);
    let worst = 0;
    for (let i = 1; i < perParticipant.length; i++)
      worst = Math.max(worst, perParticipant[i]! / perParticipant[i - 1]!);
    checks.push({
      target:
        'release growth with participants no worse than linear (issue 5: p50 / participants never rises)',
      measured:
        measured.map((r) => `${r.participants}: ${(r.p50Ms! / r.participants).toFixed(2)}`).join(', ') +
        ' ms per participant',
      verdict: worst <= 1.1 ? 'holds' : 'missed',
    });
  } else {
    checks.push({ target: 'release growth no worse than linear', measured: '–', verdict: 'not measured' });
  }
  return checks;
}

/** A GFM table as lines: json2md writes the header and delimiter rows and escapes `|` in cells. */
function table(headers: string[], rows: string[][]): string[] {
  return json2md({ table: { headers, rows } }).trimEnd().split('\n');
}

/** A section: heading, optional paragraph, table. */
function section(title: string, intro: string | undefined, headers: string[], rows: string[][]): string[] {
  return [`## ${title}`, '', ...(intro ? [intro, ''] : []), ...table(headers, rows), ''];
}

const times = (v: number | null | undefined): string => fmt(v, '×');

function summaryRows(results: BenchResults, details: BenchDetails): string[][] {
  const rows: string[][] = [
    [
      'floor: signal child → parent → child (one pair)',
      fmt(results.floor.p50Ms, ' ms'),
      fmt(results.floor.p99Ms, ' ms'),
      details.floor
        ? `${details.floor.samples} round trips, each after a 1 s timer; max ${details.floor.maxMs} ms`
        : '',
    ],
  ];
  if (details.floor) {
    const b = details.floor.backToBack;
    rows.push([
      'floor, one pair, back-to-back rounds (no pause)',
      fmt(b.p50Ms, ' ms'),
      fmt(b.p99Ms, ' ms'),
      `${b.samples} round trips`,
    ]);
  }
  for (const r of results.release) {
    rows.push([
      `release, ${r.participants} participants`,
      fmt(r.p50Ms, ' ms'),
      fmt(r.p99Ms, ' ms'),
      `${times(r.ratioToSameNFloorP50)} the same-N floor p50 (${fmt(r.floorP50Ms, ' ms')}); ${times(r.ratioToFloorP50)} the one-pair floor`,
    ]);
  }
  const tr = results.train;
  if (tr) {
    const d = details.train;
    rows.push([
      `release train, ${tr.pipelines} independent pipelines`,
      fmt(tr.p50Ms, ' ms'),
      fmt(tr.p99Ms, ' ms'),
      `${times(tr.ratioToSameNFloorP50)} the same-N floor p50 (${fmt(tr.floorP50Ms, ' ms')}, p99 ${fmt(tr.floorP99Ms, ' ms')})` +
        (d ? `; ${d.samples} samples over ${d.rounds} trains, max ${d.maxMs} ms` : ''),
    ]);
  }
  const f = details.failure;
  const fp = results.failurePropagation;
  rows.push([
    "failure propagation (failing step → peers' outcome)",
    fmt(fp.p50Ms, ' ms'),
    fmt(fp.p99Ms, ' ms'),
    `floor p50 ${fmt(fp.floorP50Ms, ' ms')}${f ? `, p99 ${f.floor.p99Ms} ms` : ''} (${times(ratioOf(fp.p50Ms, fp.floorP50Ms))})` +
      (f
        ? `; ${f.samples} peers over ${f.pipelines} pipelines; from the abandon signal: p50 ${f.fromAbandonP50Ms} ms, p99 ${f.fromAbandonP99Ms} ms`
        : ''),
  ]);
  for (const [what, lateness, d] of [
    ['one pipeline at a time', results.timeoutLateness, details.timeout],
    ['under load', results.timeoutLatenessUnderLoad, details.timeoutUnderLoad],
  ] as const) {
    if (!lateness) continue;
    rows.push([
      `timeout lateness, ${what} (outcome − arrival − timeoutMs)`,
      fmt(lateness.p50Ms, ' ms'),
      fmt(lateness.p99Ms, ' ms'),
      `raw coordinator of the same timeouts: p50 ${fmt(lateness.rawCoordinatorP50Ms, ' ms')}, p99 ${fmt(lateness.rawCoordinatorP99Ms, ' ms')} ` +
        `(${times(ratioOf(lateness.p50Ms, lateness.rawCoordinatorP50Ms))}, p99 ${times(ratioOf(lateness.p99Ms, lateness.rawCoordinatorP99Ms))}); ` +
        `raw timer of the same lengths: p50 ${fmt(lateness.rawTimerP50Ms, ' ms')}, p99 ${fmt(lateness.rawTimerP99Ms, ' ms')}; max ${fmt(lateness.maxMs, ' ms')}, ${lateness.samples} barriers` +
        (d
          ? `; against the arrivedAt payload: p50 ${d.fromPayloadP50Ms} ms, p99 ${d.fromPayloadP99Ms} ms`
          : ''),
    ]);
  }
  return rows;
}

/** Columns of a release row against the same-N floor. */
const SAME_N_HEADERS = ['p50', 'p99', 'floor p50', 'floor p99', 'p50 / floor', 'p99 / floor'];
function sameNCells(r: ReleaseRow): string[] {
  return [
    fmt(r.p50Ms, ' ms'),
    fmt(r.p99Ms, ' ms'),
    fmt(r.floorP50Ms, ' ms'),
    fmt(r.floorP99Ms, ' ms'),
    times(r.ratioToSameNFloorP50),
    times(ratioOf(r.p99Ms, r.floorP99Ms)),
  ];
}

/** A row's pipelines' p50s in the order run, e.g. "floor 150 · Convoy 160, 170 · floor 155 ms". */
export function partsCell(parts: PartP50s | undefined): string {
  if (!parts) return '';
  const ms = (values: (number | null)[]) => values.map((v) => (v === null ? '–' : String(v))).join(', ');
  const last = parts.floor.slice(1);
  return `floor ${ms(parts.floor.slice(0, 1))} · Convoy ${ms(parts.convoy)}${last.length ? ` · floor ${ms(last)}` : ''} ms`;
}

function sameNSections(results: BenchResults, details: BenchDetails): string[] {
  const lines: string[] = [];
  if (results.release.length) {
    lines.push(
      ...section(
        'Release against the floor at the same participant count',
        'The floor at N is a raw N-way barrier (bench/floor-workflows.ts: N children signal one parent, which signals all N in the workflow task that took the last arrival), ' +
          "on the same schedule, in the same worker process; both measured from the last arrival sent to each participant's outcome received. " +
          'The barriers of a row are split over two pipelines of each system, run floor, Convoy, Convoy, floor, so that a server slowing over the row weighs on both alike.',
        ['participants', ...SAME_N_HEADERS, 'samples (floor)', "each pipeline's p50, in the order run"],
        results.release.map((r) => {
          const d = details.release.find((x) => x.participants === r.participants);
          return [
            String(r.participants),
            ...sameNCells(r),
            d ? `${d.samples} (${d.floor.samples})` : '',
            partsCell(d?.partP50Ms),
          ];
        }),
      ),
    );
  }
  if (results.backToBack.length) {
    lines.push(
      ...section(
        'Back-to-back release',
        'Each participant arrives at the next barrier as soon as the previous one released it (no wait step); the first barrier of each pipeline, crossed from quiet, is left out. ' +
          'The last two columns divide the back-to-back p50 by the from-quiet p50 at the same count.',
        [
          'participants',
          ...SAME_N_HEADERS,
          'barriers',
          'p50 / from quiet',
          'floor: p50 / from quiet',
          "each pipeline's p50, in the order run",
        ],
        results.backToBack.map((r) => {
          const d = details.backToBack?.find((x) => x.participants === r.participants);
          return [
            String(r.participants),
            ...sameNCells(r),
            d ? String(d.barriers) : '',
            times(d?.ratioToFromQuietP50),
            times(d?.floorRatioToFromQuietP50),
            partsCell(d?.partP50Ms),
          ];
        }),
      ),
    );
  }
  return lines;
}

/** The largest release row, when it is large (the full run's 2,000-participant barrier). */
function largestBarrier(details: BenchDetails) {
  const largest = [...details.release].sort((a, b) => b.participants - a.participants)[0];
  return largest && largest.participants >= 1000 ? largest : undefined;
}

function scaleRows(results: BenchResults, details: BenchDetails): string[][] {
  const s = results.scale;
  const m = results.machine;
  const d = details.scale;
  const rows: string[][] = [
    [
      'scale pipeline',
      `${s.workflows} workflows × ${s.barriersPerWorkflow} barriers${d ? ` (${d.status})` : ''}`,
    ],
    ['wall time', fmt(s.wallSeconds, ' s')],
    [
      'release at scale (last arrival → released, every barrier)',
      `p50 ${fmt(s.releaseP50Ms, ' ms')}, p99 ${fmt(s.releaseP99Ms, ' ms')}${d ? ` over ${d.releaseSamples} samples` : ''}`,
    ],
    [
      'parent history events',
      `${fmt(s.parentHistoryEvents)}; predicted at most ${fmt(s.predictedParentHistoryEvents)} (history-budget.ts), actual / predicted ${fmt(s.parentHistoryToPredicted)}; the server warns at 10,240, limit 51,200`,
    ],
    [
      'worker peak RSS (VmHWM)',
      `${fmt(s.workerPeakRssMb, ' MiB')}${d ? ` (${fmt(d.workerBaselineRssMb, ' MiB')} when it started polling)` : ''}` +
        (d?.workerMemoryLimitMb === undefined
          ? ''
          : `; sized as the manifests' pod: ${d.workerMemoryLimitMb} MiB limit, ${fmt(d.workerCachedWorkflows ?? null)} cached workflows, ` +
            (s.workerPeakRssMb === null
              ? 'peak unread'
              : s.workerPeakRssMb <= d.workerMemoryLimitMb
                ? 'within the limit'
                : `over the limit by ${fmt(Math.round((s.workerPeakRssMb - d.workerMemoryLimitMb) * 10) / 10, ' MiB')}`)),
    ],
  ];
  if (d) {
    rows.push(
      [
        'parent events by type',
        Object.entries(d.parentEventsByType)
          .map(([type, n]) => `${type} ${n}`)
          .join(', '),
      ],
      [
        'parent workflow tasks',
        `${d.parentTasks}, p50 ${d.parentTaskP50Ms} ms, slowest ${d.parentTaskMaxMs} ms on the worker; failed by the server: ${
          Object.entries(d.parentTasksFailed)
            .map(([cause, n]) => `${n} × ${cause}`)
            .join(', ') || 'none'
        }`,
      ],
      ['largest child history', `${d.childEventsMax} events`],
      [
        'CPU during the scale run',
        `server ${fmt(d.cpu.serverSeconds, ' s')}, worker ${fmt(d.cpu.workerSeconds, ' s')} (of ${fmt(s.wallSeconds === null ? null : s.wallSeconds * m.cores, ' s')} on ${m.cores} cores)`,
      ],
    );
  }
  const big = largestBarrier(details);
  if (big) {
    const r = results.release.find((x) => x.participants === big.participants);
    rows.push([
      `one barrier of ${big.participants} participants`,
      `${big.wallSeconds} s wall (pipeline start → end, including ${big.participants} child starts); release p50 ${fmt(r?.p50Ms, ' ms')}, p99 ${fmt(r?.p99Ms, ' ms')}; ` +
        `parent history ${big.parentHistoryEvents} events (predicted at most ${big.predictedParentHistoryEvents}); worker peak RSS ${fmt(big.workerPeakRssMb, ' MiB')}`,
    ]);
  }
  const tp = details.throughput;
  rows.push([
    'throughput',
    `${results.throughput.pipelines} concurrent pipelines of 10 workflows × 2 barriers: ${fmt(results.throughput.pipelinesPerMinute)} pipelines/min` +
      (tp
        ? ` (${tp.wallSeconds} s wall; CPU: server ${fmt(tp.cpu.serverSeconds, ' s')}, worker ${fmt(tp.cpu.workerSeconds, ' s')})`
        : ''),
  ]);
  return rows;
}

function settingsSection(results: BenchResults, details: BenchDetails): string[] {
  const { shipped, defaults, idleSeconds, throughputPipelines } = results.serverSettings;
  if (!shipped && !defaults) return [];
  const row = (label: string, pick: (c: SettingsCost) => number | null, unit = '') => {
    const a = shipped ? pick(shipped) : null;
    const b = defaults ? pick(defaults) : null;
    return [label, fmt(a, unit), fmt(b, unit), times(ratioOf(a, b))];
  };
  const perPipeline = (v: number | null) =>
    v === null ? null : Math.round((v / throughputPipelines) * 100) / 100;
  const settings = details.serverSettings
    ? Object.entries(details.serverSettings.shipped)
        .map(([k, v]) => `\`${k}=${String(v)}\``)
        .join(', ')
    : 'config/temporal/dynamic-config.yaml';
  return section(
    'What the shipped server settings cost',
    `Two dev servers one after the other, each with a Convoy worker polling: the shipped settings (${settings}) and the server's defaults. ` +
      `Server process CPU seconds and database requests (Prometheus \`persistence_requests\`; reads are Get…, List… and Read… operations; ` +
      'history task-queue reads are GetTransferTasks, GetTimerTasks and the like, which the poll limits bound), ' +
      `over ${idleSeconds} s idle and then over a throughput run of ${throughputPipelines} pipelines.`,
    ['measure', 'shipped', 'server defaults', 'shipped / defaults'],
    [
      row('idle: server CPU', (c) => c.idle.cpuSeconds, ' s'),
      row('idle: database reads', (c) => c.idle.dbReads),
      row('idle: of which history task-queue reads', (c) => c.idle.historyTaskReads),
      row('idle: database writes', (c) => c.idle.dbWrites),
      row('throughput: pipelines per minute', (c) => c.throughput.pipelinesPerMinute),
      row('throughput: server CPU', (c) => c.throughput.cpuSeconds, ' s'),
      row('throughput: database reads', (c) => c.throughput.dbReads),
      row('throughput: of which history task-queue reads', (c) => c.throughput.historyTaskReads),
      row('throughput: database writes', (c) => c.throughput.dbWrites),
      row('throughput: server CPU per pipeline', (c) => perPipeline(c.throughput.cpuSeconds), ' s'),
      row('throughput: database reads per pipeline', (c) => perPipeline(c.throughput.dbReads)),
      ...(details.serverSettings
        ? (['idle', 'throughput'] as const).map((phase) => [
            `${phase}: largest read operations`,
            ...(['shipped', 'defaults'] as const).map((v) =>
              Object.entries(details.serverSettings!.byOperation[phase][v])
                .filter(([op]) => isReadOperation(op))
                .slice(0, 4)
                .map(([op, n]) => `${op} ${n}`)
                .join(', '),
            ),
            '',
          ])
        : []),
    ],
  );
}

function memorySection(results: BenchResults, details: BenchDetails): string[] {
  const m = details.memory;
  const r = results.memory;
  if (!m && r.rssPerCachedWorkflowMb === null && r.rssPerInFlightPipelineMb === null && r.stepRssMb === null)
    return [];
  return section(
    'Worker memory',
    "Resident set (VmRSS) of a fresh worker process after one small warm-up pipeline, and again while the pipelines' workflows all waited at a barrier (cached). " +
      "A shell step's process group (its /bin/sh -c, the watchdog, what the command runs) as the shell activity starts it, summed over its processes: VmRSS, and its private part (RssAnon), which is what each more step costs a container.",
    ['measure', 'value', 'how'],
    [
      [
        'RSS per cached workflow',
        fmt(r.rssPerCachedWorkflowMb, ' MiB'),
        m?.cached
          ? `${m.cached.beforeRssMb} → ${m.cached.whileCachedRssMb} MiB with one pipeline of ${m.cached.workflows} workflows (parent included) cached`
          : '',
      ],
      [
        'RSS per in-flight pipeline (10 workflows)',
        fmt(r.rssPerInFlightPipelineMb, ' MiB'),
        m?.inFlight
          ? `${m.inFlight.beforeRssMb} → ${m.inFlight.whileCachedRssMb} MiB with ${m.inFlight.pipelines} pipelines (${m.inFlight.workflows} workflows) in flight`
          : '',
      ],
      ...(m?.steps ?? []).map((step) => [
        'shell step',
        `${step.rssMb} MiB (${step.privateMb} MiB private)`,
        `${step.processes} processes: \`${step.command}\``,
      ]),
    ],
  );
}

function timeoutSections(details: BenchDetails): string[] {
  const lines: string[] = [];
  for (const [what, timeout] of [
    ['one pipeline at a time', details.timeout],
    ['under load (about ten pipelines in flight)', details.timeoutUnderLoad],
  ] as const) {
    if (!timeout?.byTimeout.length) continue;
    lines.push(
      ...section(
        `Timeout lateness by timeoutMs, ${what}`,
        "Lateness split into legs: the parent's timer fired after the deadline (timer), the parent's workflow task then initiated the outcome (decide), and the outcome reached the waiter (transit). " +
          "The timer leg has two causes: the parent's workflow task that armed it ran for a while (arm: WorkflowTaskStarted → TimerStarted; the duration is computed from the task's start, the server starts the timer at the task's end), and the server fired it late (server: TimerFired − TimerStarted − duration, as the raw timer is measured). " +
          'The raw timer is a workflow sleeping the same timeoutMs, started when the waiter arrives: TimerFired − TimerStarted − timeoutMs. ' +
          'The raw coordinator (bench/floor-workflows.ts `rawTimeoutParent`) times out a raw waiter after the same wait and timeout, measured as Convoy is: its floor.',
        [
          'barrier timeoutMs',
          'barriers',
          'p50',
          'p99',
          'max',
          'timer p50',
          'decide p50',
          'transit p50',
          'arm p50 / p99',
          'server p50',
          'raw timer p50',
          'raw timer p99',
          'raw coordinator p50 / p99',
          'raw coordinator arm p99',
          'raw coordinator decide p50',
        ],
        timeout.byTimeout.map((b) => [
          b.range,
          String(b.samples),
          fmt(b.p50Ms, ' ms'),
          fmt(b.p99Ms, ' ms'),
          fmt(b.maxMs, ' ms'),
          fmt(b.timerP50Ms, ' ms'),
          fmt(b.decideP50Ms, ' ms'),
          fmt(b.transitP50Ms, ' ms'),
          `${fmt(b.armP50Ms, ' ms')} / ${fmt(b.armP99Ms, ' ms')}`,
          fmt(b.serverTimerP50Ms, ' ms'),
          fmt(b.rawTimerP50Ms, ' ms'),
          fmt(b.rawTimerP99Ms, ' ms'),
          `${fmt(b.rawCoordinatorP50Ms, ' ms')} / ${fmt(b.rawCoordinatorP99Ms, ' ms')}`,
          fmt(b.rawArmP99Ms, ' ms'),
          fmt(b.rawDecideP50Ms, ' ms'),
        ]),
      ),
    );
  }
  if (details.floor?.timers.length) {
    lines.push(
      ...section(
        'Server timer precision',
        'One workflow sleeping each duration in turn; TimerStarted → TimerFired in its history. Barrier timeouts and `wait` steps ride on these timers.',
        ['requested', 'fired after', 'late by'],
        details.floor.timers.map((timer) => [
          `${timer.requestedMs} ms`,
          `${timer.firedAfterMs} ms`,
          `${Math.round((timer.firedAfterMs - timer.requestedMs) * 10) / 10} ms`,
        ]),
      ),
    );
  }
  return lines;
}

function releaseLegsSection(details: BenchDetails): string[] {
  if (!details.release.length) return [];
  return section(
    'Where release time goes',
    'Per barrier: the last arrival is delivered to the parent (child sends → parent receives), the parent decides and ' +
      'initiates one outcome signal per participant, and each outcome travels to its child; the floor at the same count in brackets. ' +
      'The quiet gap is the time between the last two arrivals: the coordinator should be idle when the last one comes.',
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
      'parent history (predicted)',
    ],
    details.release.map((d) => [
      String(d.participants),
      `${fmt(d.deliverP50Ms, ' ms')} (${fmt(d.floor.deliverP50Ms, ' ms')})`,
      `${fmt(d.decideP50Ms, ' ms')} / ${fmt(d.decideP99Ms, ' ms')} (${fmt(d.floor.decideP50Ms, ' ms')} / ${fmt(d.floor.decideP99Ms, ' ms')})`,
      `${fmt(d.transitP50Ms, ' ms')} (${fmt(d.floor.transitP50Ms, ' ms')})`,
      fmt(d.minQuietGapMs, ' ms'),
      Object.entries(d.kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      String(d.missing),
      fmt(d.parentTaskMaxMs, ' ms'),
      String(d.parentTasksFailed),
      `${d.parentHistoryEvents} (${d.predictedParentHistoryEvents})`,
    ]),
  );
}

/** bench/results/latest.md */
export function renderMarkdown(results: BenchResults, details: BenchDetails): string {
  const m = results.machine;
  const lines: string[] = [];
  lines.push(`# Convoy benchmarks (${details.mode} run)`, '');
  lines.push(
    `Run ${details.startedAt}, ${Math.round(details.durationSeconds)} s, on ${m.cpuModel} (${m.cores} cores), ${m.memoryGiB} GiB, ` +
      `Node ${m.node}, ${m.temporalCli}, ${m.os}. Embedded Temporal dev server (in-memory SQLite) with the shipped dynamic config, worker in its own process, ` +
      'all on 127.0.0.1. Times are differences of history event timestamps (one server clock); percentiles are nearest-rank.',
    '',
  );
  lines.push(
    ...section('Summary', undefined, ['benchmark', 'p50', 'p99', 'other'], summaryRows(results, details)),
  );
  lines.push(...sameNSections(results, details));
  lines.push(
    ...section('Scale and throughput', undefined, ['measure', 'value'], scaleRows(results, details)),
  );
  lines.push(...settingsSection(results, details));
  lines.push(...memorySection(results, details));
  lines.push(...timeoutSections(details));
  lines.push(...releaseLegsSection(details));
  lines.push(
    ...section(
      'Targets (issue 9)',
      undefined,
      ['target', 'measured', 'verdict'],
      checkTargets(results).map((c) => [c.target, c.measured, c.verdict]),
    ),
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
