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
import { BENCHMARKS, parseArgs, type Benchmark } from './args';
import { FULL, QUICK, type BenchConfig } from './config';
import type { ConvoyContext } from './convoy-scenarios';
import { renderMarkdown, type MachineInfo } from './report';
import { failureScenario } from './scenarios/failure';
import { floorScenario } from './scenarios/floor';
import { BenchRecord } from './scenarios/record';
import { releaseScenario } from './scenarios/release';
import { scaleScenario } from './scenarios/scale';
import { throughputScenario } from './scenarios/throughput';
import { timeoutScenario } from './scenarios/timeout';
import { round } from './stats';
import { renderReleaseChart } from './svg';
import { describeError, log } from './util';

type ConvoyScenario = (ctx: ConvoyContext, config: BenchConfig, record: BenchRecord) => Promise<void>;

/** The benchmarks that run Convoy's own workflows, after the floor and in BENCHMARKS' order. */
type ConvoyBenchmark = Exclude<Benchmark, 'floor'>;
const CONVOY_SCENARIOS: Record<ConvoyBenchmark, ConvoyScenario> = {
  release: releaseScenario,
  failure: failureScenario,
  timeout: timeoutScenario,
  scale: scaleScenario,
  throughput: throughputScenario,
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

/** A record with every figure missing, which the scenarios fill in. */
function emptyRecord(
  machine: MachineInfo,
  config: BenchConfig,
  quick: boolean,
  startedAt: Date,
): BenchRecord {
  return new BenchRecord(
    {
      machine,
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
    },
    {
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      durationSeconds: 0,
      release: [],
      notes: [],
      errors: [],
    },
  );
}

/** Convoy's workflow bundle (the prebuilt one unless `rebundle`) and where the scenarios run. */
async function convoyContext(
  dev: DevServer,
  client: Client,
  tag: string,
  workDir: string,
  rebundle: boolean,
): Promise<ConvoyContext> {
  const prebuilt = rebundle ? undefined : prebuiltWorkflowBundle();
  const bundlePath = prebuilt ?? (await writeWorkflowBundle(join(workDir, 'convoy-bundle.js')));
  log(`Convoy workflow bundle: ${bundlePath}`);
  // The server's process is exposed by newer versions of startDevServer; CPU figures need it.
  const serverPid = (dev as unknown as { process?: { pid?: number } }).process?.pid;
  return { client, address: dev.address, namespace: dev.namespace, tag, bundlePath, serverPid };
}

/** latest.json, latest.md and release-latency.svg in `out`. */
function writeReports(out: string, { results, details }: BenchRecord): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(out, 'latest.md'), renderMarkdown(results, details));
  writeFileSync(
    join(out, 'release-latency.svg'),
    renderReleaseChart({
      points: results.release,
      floorP50Ms: results.floor.p50Ms,
      subtitle: `${details.mode} run ${details.startedAt.slice(0, 10)}, ${results.machine.cores} × ${results.machine.cpuModel}, ${results.machine.temporalCli}`,
    }),
  );
}

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
  const record = emptyRecord(machineInfo(dev), config, args.quick, startedAt);
  const { details } = record;

  try {
    if (args.only.has('floor')) {
      const env = { client, address: dev.address, namespace: dev.namespace, tag, bundleDir: workDir };
      await record.attempt('floor', () => floorScenario(env, config, record));
    }
    const convoy = BENCHMARKS.filter((b): b is ConvoyBenchmark => b !== 'floor' && args.only.has(b));
    const ctx = convoy.length
      ? await record.attempt('bundle', () => convoyContext(dev, client, tag, workDir, args.rebundle))
      : undefined;
    if (ctx)
      for (const benchmark of convoy)
        await record.attempt(benchmark, () => CONVOY_SCENARIOS[benchmark](ctx, config, record));
  } finally {
    await dev.stop().catch((error: unknown) => log(`stopping the dev server: ${describeError(error)}`));
    rmSync(workDir, { recursive: true, force: true });
  }

  details.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  record.note(
    `1-minute load average ${round(loadAtStart, 2)} at the start and ${round(loadavg()[0]!, 2)} at the end, on ${record.results.machine.cores} cores ` +
      '(the dev server, the worker process and the runner share them; anything else running on the machine shows up in the figures).',
  );
  writeReports(args.out, record);
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
