/**
 * The benchmark runner, a development tool built apart from Convoy: `npm run bench` runs
 * `npm run build`, compiles bench/ into dist-bench/ (tsconfig.bench.json) and runs
 * `node dist-bench/bench/run.js [--quick] [--only a,b]`. It starts an embedded Temporal dev
 * server and measures, in one run, the floor, release latency, failure propagation, timeout
 * precision, scale and throughput (issue 5). Writes bench/results/latest.json, latest.md and
 * release-latency.svg.
 *
 *   --quick         a smaller run of the same (under three minutes on 2 cores)
 *   --only LIST     only these benchmarks: floor,release,failure,timeout,scale,throughput
 *   --out DIR       where to write the results (default bench/results of the package)
 *   --rebundle      bundle Convoy's workflows afresh instead of using dist/workflow-bundle.js
 * (bench/args.ts parses them; `--help` lists them).
 */
import { Client } from '@temporalio/client';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release as osRelease, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { prebuiltWorkflowBundle, writeWorkflowBundle } from '../src/worker/bundle';
import { startDevServer, type DevServer } from '../src/dev-server/dev-server';
import { installQuietRuntime } from '../src/worker/worker';
import {
  runFailure,
  runRelease,
  runScale,
  runThroughput,
  runTimeouts,
  withConvoyWorker,
  type ConvoyContext,
} from './convoy-scenarios';
import { parseArgs, type Benchmark } from './args';
import { runFloor } from './floor';
import { renderMarkdown, type BenchDetails, type BenchResults, type MachineInfo } from './report';
import { percentile, ratio, round, summarize } from './stats';
import { renderReleaseChart } from './svg';
import { describeError, log } from './util';

/** What each mode runs. */
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

function machineInfo(dev: DevServer): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    temporalCli: dev.cli.version,
    os: `${platform()} ${osRelease()}`,
  };
}

const nullable = (v: number | undefined): number | null =>
  v === undefined || !Number.isFinite(v) ? null : round(v);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = args.quick ? QUICK : FULL;
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  installQuietRuntime('ERROR');
  log(`${args.quick ? 'quick' : 'full'} run: ${[...args.only].join(', ')}`);
  const dev = await startDevServer();
  log(`dev server at ${dev.address} (${dev.cli.version})`);
  const client = new Client({ connection: dev.env.connection, namespace: dev.namespace });
  const workDir = mkdtempSync(join(tmpdir(), 'convoy-bench-'));
  const tag = `bench-${Date.now().toString(36)}`;
  const details: BenchDetails = {
    mode: args.quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    release: [],
    notes: [],
    errors: [],
  };
  const results: BenchResults = {
    machine: machineInfo(dev),
    floor: { p50Ms: null, p99Ms: null },
    release: [],
    failurePropagation: { p50Ms: null, p99Ms: null },
    timeoutLateness: { p50Ms: null, p99Ms: null, maxMs: null, samples: 0 },
    scale: {
      workflows: config.scale.workflows,
      barriersPerWorkflow: config.scale.barriers,
      wallSeconds: null,
      parentHistoryEvents: null,
      workerPeakRssMb: null,
    },
    throughput: { pipelines: config.throughputPipelines, pipelinesPerMinute: null },
  };
  /** Says so when the server failed coordinator workflow tasks (their work is thrown away and redone). */
  const forceClosedNote = (benchmark: string, failed: Record<string, number>): void => {
    const entries = Object.entries(failed);
    if (!entries.length) return;
    details.notes.push(
      `${benchmark}: the server failed ${entries.map(([cause, n]) => `${n} coordinator workflow task(s) with ${cause}`).join(' and ')}` +
        (failed.FORCE_CLOSE_COMMAND
          ? ' — more events arrived for the pipeline workflow while one of its workflow tasks ran than the server buffers (about 100), ' +
            'so it discarded that task and scheduled a new one: the worker does that work again.'
          : '.'),
    );
  };
  const attempt = async (benchmark: string, body: () => Promise<void>): Promise<void> => {
    try {
      await body();
    } catch (error) {
      const message = describeError(error);
      log(`${benchmark} FAILED: ${message}`);
      details.errors.push({ benchmark, message });
    }
  };

  try {
    if (args.only.has('floor')) {
      await attempt('floor', async () => {
        const floor = await runFloor({
          client,
          address: dev.address,
          namespace: dev.namespace,
          tag,
          bundleDir: workDir,
          pairs: config.floorPairs,
          rounds: config.floorRounds,
          warmup: config.floorWarmup,
          backToBackRounds: config.floorBackToBack,
        });
        const b = summarize(floor.backToBack);
        const s = summarize(floor.samples);
        results.floor = { p50Ms: nullable(s.p50Ms), p99Ms: nullable(s.p99Ms) };
        details.floor = {
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
          details.notes.push(
            `Back-to-back signal rounds (the next ping sent in the workflow task that took the pong) took p50 ${b.p50Ms} ms against ${s.p50Ms} ms from quiet. ` +
              'Once the workflow tasks of a pair come in quick succession, the server dispatches each of them about 50 ms after scheduling it ' +
              '(WorkflowTaskScheduled → WorkflowTaskStarted) while the worker is idle. The same happened with four floor pairs each doing one round a second, ' +
              "but not with three, nor with six pairs at one round every two seconds; neither the worker's poller settings nor the server's matcher setting changed it. " +
              'The floor is therefore measured with two pairs, each round after a one-second timer, as barrier releases are.',
          );
        }
        const short = floor.timers.filter(
          (t) => t.requestedMs < 1000 && t.firedAfterMs - t.requestedMs > 100,
        );
        if (short.length) {
          details.notes.push(
            `The server fired timers shorter than one second late (${short.map((t) => `${round(t.requestedMs, 0)} ms after ${round(t.firedAfterMs, 0)} ms`).join(', ')}): ` +
              'every benchmark plan waits at least one second, and barrier timeouts under a second cannot be met more precisely than that.',
          );
        }
        log(`floor: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} round trips`);
      });
    }

    const needsConvoy = ['release', 'failure', 'timeout', 'scale', 'throughput'].some((b) =>
      args.only.has(b as Benchmark),
    );
    let ctx: ConvoyContext | undefined;
    if (needsConvoy) {
      await attempt('bundle', async () => {
        const prebuilt = args.rebundle ? undefined : prebuiltWorkflowBundle();
        const bundlePath = prebuilt ?? (await writeWorkflowBundle(join(workDir, 'convoy-bundle.js')));
        log(`Convoy workflow bundle: ${bundlePath}`);
        // The server's process is exposed by newer versions of startDevServer; CPU figures need it.
        const serverPid = (dev as unknown as { process?: { pid?: number } }).process?.pid;
        ctx = { client, address: dev.address, namespace: dev.namespace, tag, bundlePath, serverPid };
      });
    }

    if (ctx && args.only.has('release')) {
      const c = ctx;
      await attempt('release', () =>
        withConvoyWorker(c, 'release', async (taskQueue) => {
          for (const { participants, rounds } of config.release) {
            await attempt(`release ${participants}`, async () => {
              const run = await runRelease(c, taskQueue, participants, rounds);
              const latencies = run.rounds.flatMap((r) => r.latencies).filter(Number.isFinite);
              const s = summarize(latencies);
              const legs = run.rounds.flatMap((r) => (r.legs ? [r.legs] : []));
              const kinds: Record<string, number> = {};
              for (const r of run.rounds)
                for (const [k, n] of Object.entries(r.kinds)) kinds[k] = (kinds[k] ?? 0) + n;
              results.release.push({
                participants,
                p50Ms: nullable(s.p50Ms),
                p99Ms: nullable(s.p99Ms),
                ratioToFloorP50: results.floor.p50Ms === null ? null : ratio(s.p50Ms, results.floor.p50Ms),
              });
              details.release.push({
                participants,
                samples: s.samples,
                rounds: run.rounds.length,
                maxMs: s.maxMs,
                minQuietGapMs: round(Math.min(...run.rounds.map((r) => r.quietGapMs))),
                deliverP50Ms: round(
                  percentile(
                    legs.map((l) => l.deliverMs),
                    50,
                  ),
                ),
                decideP50Ms: round(
                  percentile(
                    legs.flatMap((l) => l.decideMs),
                    50,
                  ),
                ),
                decideP99Ms: round(
                  percentile(
                    legs.flatMap((l) => l.decideMs),
                    99,
                  ),
                ),
                transitP50Ms: round(
                  percentile(
                    legs.flatMap((l) => l.transitMs),
                    50,
                  ),
                ),
                kinds,
                missing: run.rounds.reduce((n, r) => n + r.missing.length, 0),
                parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
                parentTasksFailed: Object.values(run.parentTasks.failed).reduce((a, b) => a + b, 0),
              });
              if (run.status !== 'succeeded')
                details.notes.push(`release ${participants}: the pipeline ended ${run.status}`);
              forceClosedNote(`release ${participants}`, run.parentTasks.failed);
              log(
                `release ${participants}: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} samples (${run.status})`,
              );
            });
          }
        }),
      );
    }

    if (ctx && args.only.has('failure')) {
      const c = ctx;
      await attempt('failure', () =>
        withConvoyWorker(c, 'failure', async (taskQueue) => {
          const run = await runFailure(c, taskQueue, config.failurePipelines, config.failurePeers);
          const s = summarize(run.latencies);
          const a = summarize(run.fromAbandon);
          results.failurePropagation = { p50Ms: nullable(s.p50Ms), p99Ms: nullable(s.p99Ms) };
          details.failure = {
            pipelines: config.failurePipelines,
            samples: s.samples,
            fromAbandonP50Ms: a.p50Ms,
            fromAbandonP99Ms: a.p99Ms,
            maxMs: s.maxMs,
            kinds: run.kinds,
            missing: run.missing,
          };
          const unexpected = run.statuses.filter((st) => st !== 'failed');
          if (unexpected.length)
            details.notes.push(`failure: pipelines ended ${unexpected.join(', ')} (expected failed)`);
          if (run.missing)
            details.notes.push(`failure: ${run.missing} waiting peers never received an outcome`);
          log(
            `failure propagation: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms over ${s.samples} peers; kinds ${JSON.stringify(run.kinds)}`,
          );
        }),
      );
    }

    if (ctx && args.only.has('timeout')) {
      const c = ctx;
      await attempt('timeout', () =>
        withConvoyWorker(c, 'timeout', async (taskQueue) => {
          const run = await runTimeouts(c, taskQueue, config.timeoutPipelines);
          const timedOut = run.observations.filter((o) => o.kind === 'timed-out');
          const s = summarize(timedOut.map((o) => o.latenessMs).filter(Number.isFinite));
          const p = summarize(timedOut.map((o) => o.latenessFromPayloadMs).filter(Number.isFinite));
          results.timeoutLateness = {
            p50Ms: nullable(s.p50Ms),
            p99Ms: nullable(s.p99Ms),
            maxMs: nullable(s.maxMs),
            samples: s.samples,
          };
          const kinds: Record<string, number> = {};
          for (const o of run.observations) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
          const split = (range: string, keep: (timeoutMs: number) => boolean) => {
            const group = timedOut.filter((o) => keep(o.timeoutMs));
            const b = summarize(group.map((o) => o.latenessMs).filter(Number.isFinite));
            const leg = (pick: (l: NonNullable<(typeof group)[number]['legs']>) => number) =>
              round(
                percentile(
                  group.flatMap((o) => (o.legs ? [pick(o.legs)] : [])),
                  50,
                ),
              );
            return {
              range,
              samples: b.samples,
              p50Ms: b.p50Ms,
              p99Ms: b.p99Ms,
              maxMs: b.maxMs,
              timerP50Ms: leg((l) => l.timerMs),
              decideP50Ms: leg((l) => l.decideMs),
              transitP50Ms: leg((l) => l.transitMs),
            };
          };
          details.timeout = {
            pipelines: config.timeoutPipelines,
            fromPayloadP50Ms: p.p50Ms,
            fromPayloadP99Ms: p.p99Ms,
            fromPayloadMaxMs: p.maxMs,
            minMs: s.minMs,
            kinds,
            byTimeout: [split('500–999 ms', (t) => t < 1000), split('1000–1500 ms', (t) => t >= 1000)],
          };
          if (timedOut.length !== run.observations.length)
            details.notes.push(`timeout: outcomes ${JSON.stringify(kinds)} (expected all timed-out)`);
          details.notes.push(
            `timeout: leftover pipelines cancelled ${run.leftovers.cancelled}, terminated ${run.leftovers.terminated}`,
          );
          log(
            `timeout lateness: p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms over ${s.samples} barriers; kinds ${JSON.stringify(kinds)}`,
          );
        }),
      );
    }

    if (ctx && args.only.has('scale')) {
      const c = ctx;
      await attempt('scale', async () => {
        const run = await runScale(c, config.scale.workflows, config.scale.barriers);
        results.scale = {
          workflows: run.workflows,
          barriersPerWorkflow: run.barriers,
          wallSeconds: round(run.wallSeconds, 1),
          parentHistoryEvents: run.parentHistoryEvents,
          workerPeakRssMb: nullable(run.workerPeakRssMb),
        };
        details.scale = {
          status: run.status,
          parentHistoryWarn: 10_240,
          parentHistoryLimit: 51_200,
          childEventsMax: run.childEventsMax,
          parentEventsByType: run.parentEventsByType,
          workerBaselineRssMb: nullable(run.workerBaselineRssMb),
          parentTasks: run.parentTasks.durationsMs.length,
          parentTaskP50Ms: round(percentile(run.parentTasks.durationsMs, 50)),
          parentTaskMaxMs: round(Math.max(...run.parentTasks.durationsMs)),
          parentTasksFailed: run.parentTasks.failed,
          cpu: {
            serverSeconds: nullable(run.cpu.serverSeconds),
            workerSeconds: nullable(run.cpu.workerSeconds),
          },
        };
        forceClosedNote('scale', run.parentTasks.failed);
        if (run.status !== 'succeeded') details.notes.push(`scale: the pipeline ended ${run.status}`);
        log(
          `scale: ${run.status} in ${round(run.wallSeconds)} s, parent ${run.parentHistoryEvents} events, worker peak RSS ${nullable(run.workerPeakRssMb)} MiB`,
        );
      });
    }

    if (ctx && args.only.has('throughput')) {
      const c = ctx;
      await attempt('throughput', async () => {
        const run = await runThroughput(c, config.throughputPipelines);
        results.throughput = {
          pipelines: run.pipelines,
          pipelinesPerMinute: round((run.pipelines / run.wallSeconds) * 60, 1),
        };
        details.throughput = {
          wallSeconds: round(run.wallSeconds, 1),
          statuses: run.statuses,
          cpu: {
            serverSeconds: nullable(run.cpu.serverSeconds),
            workerSeconds: nullable(run.cpu.workerSeconds),
          },
        };
        if (run.statuses.succeeded !== run.pipelines)
          details.notes.push(`throughput: pipelines ended ${JSON.stringify(run.statuses)}`);
        log(
          `throughput: ${run.pipelines} pipelines in ${round(run.wallSeconds)} s = ${results.throughput.pipelinesPerMinute}/min ${JSON.stringify(run.statuses)}`,
        );
      });
    }
  } finally {
    await dev.stop().catch((error: unknown) => log(`stopping the dev server: ${describeError(error)}`));
    rmSync(workDir, { recursive: true, force: true });
  }

  details.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  details.notes.push(
    `1-minute load average ${round(loadAtStart, 2)} at the start and ${round(loadavg()[0]!, 2)} at the end, on ${results.machine.cores} cores ` +
      '(the dev server, the worker process and the runner share them; anything else running on the machine shows up in the figures).',
  );
  mkdirSync(args.out, { recursive: true });
  writeFileSync(join(args.out, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(args.out, 'latest.md'), renderMarkdown(results, details));
  writeFileSync(
    join(args.out, 'release-latency.svg'),
    renderReleaseChart({
      points: results.release,
      floorP50Ms: results.floor.p50Ms,
      subtitle: `${details.mode} run ${details.startedAt.slice(0, 10)}, ${results.machine.cores} × ${results.machine.cpuModel}, ${results.machine.temporalCli}`,
    }),
  );
  log(
    `done in ${round(details.durationSeconds)} s; results in ${args.out}${details.errors.length ? ` (${details.errors.length} benchmark(s) failed)` : ''}`,
  );
  process.exitCode = details.errors.length ? 1 : 0;
}

if (require.main === module) {
  main().catch((error: unknown) => {
    log(`benchmark run failed: ${describeError(error)}`);
    process.exit(1);
  });
}
