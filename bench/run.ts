/**
 * The benchmark runner, a development tool built apart from Convoy: `npm run bench` runs
 * `npm run build`, compiles bench/ into dist-bench/ (tsconfig.bench.json) and runs
 * `node dist-bench/bench/run.js [--quick] [--only a,b]`. It starts an embedded Temporal dev
 * server and measures, in one run, the floor, release latency from quiet and back-to-back (each
 * against the raw floor at the same participant count), failure propagation, timeout precision,
 * scale, throughput and worker memory (issues 5 and 9); then, on two more dev servers one after
 * the other, what the shipped server settings cost against the server's defaults. Writes
 * bench/results/latest.json, latest.md and release-latency.svg.
 *
 *   --quick         a smaller run of the same (under four minutes on 2 cores)
 *   --only LIST     only these benchmarks: floor,release,train,back-to-back,failure,timeout,scale,
 *                   throughput,memory,server-settings
 *   --participants LIST  only these participant counts of the release and back-to-back rows
 *                   (e.g. `--only release --participants 2000`)
 *   --out DIR       where to write the results (default bench/results of the package)
 *   --rebundle      bundle Convoy's workflows afresh instead of using dist/workflow-bundle.js
 * (bench/args.ts parses them; `--help` lists them).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release as osRelease, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { prebuiltWorkflowBundle, writeWorkflowBundle } from '../src/worker/bundle';
import { freePort, startDevServer, type DevServer } from '../src/dev-server/dev-server';
import { installQuietRuntime } from '../src/worker/worker';
import { BENCHMARKS, parseArgs, type Benchmark } from './args';
import { FULL, QUICK, withParticipants, type BenchConfig } from './config';
import { benchContext, type BenchContext } from './context';
import { bundleFloorWorkflows } from './floor';
import { renderMarkdown, type MachineInfo } from './report';
import { backToBackScenario } from './scenarios/back-to-back';
import { failureScenario } from './scenarios/failure';
import { floorScenario } from './scenarios/floor';
import { memoryScenario } from './scenarios/memory';
import { emptyRecord, type BenchRecord } from './scenarios/record';
import { releaseScenario } from './scenarios/release';
import { scaleScenario } from './scenarios/scale';
import { serverSettingsScenario } from './scenarios/server-settings';
import { throughputScenario } from './scenarios/throughput';
import { timeoutScenario } from './scenarios/timeout';
import { trainScenario } from './scenarios/train';
import { round } from './stats';
import { renderReleaseChart } from './svg';
import { describeError, log } from './util';

type Scenario = (ctx: BenchContext, config: BenchConfig, record: BenchRecord) => Promise<void>;

/** The benchmarks that share the run's dev server, in BENCHMARKS' order. */
type SharedServerBenchmark = Exclude<Benchmark, 'server-settings'>;
const SCENARIOS: Record<SharedServerBenchmark, Scenario> = {
  floor: floorScenario,
  release: releaseScenario,
  train: trainScenario,
  'back-to-back': backToBackScenario,
  failure: failureScenario,
  timeout: timeoutScenario,
  scale: scaleScenario,
  throughput: throughputScenario,
  memory: memoryScenario,
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

/** Convoy's workflow bundle (the prebuilt one unless `rebundle`) and the floor's, in `workDir`. */
async function bundles(workDir: string, rebundle: boolean) {
  const prebuilt = rebundle ? undefined : prebuiltWorkflowBundle();
  const bundlePath = prebuilt ?? (await writeWorkflowBundle(join(workDir, 'convoy-bundle.js')));
  log(`Convoy workflow bundle: ${bundlePath}`);
  return { bundlePath, floorBundlePath: await bundleFloorWorkflows(workDir) };
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

/** The run's record and where it goes, once the record exists. */
let pending: { record: BenchRecord; out: string; startedAt: Date } | undefined;

/**
 * An error no benchmark caught (thrown from a timer or an unawaited promise) ends the process, but
 * not before what was measured so far is written, with the error among the failures.
 */
function writeWhatWeHave(kind: string) {
  return (error: unknown): void => {
    const message = `${kind}: ${describeError(error)}`;
    log(`benchmark run failed: ${message}`);
    if (pending) {
      const { record, out, startedAt } = pending;
      pending = undefined;
      record.details.errors.push({ benchmark: 'runner', message });
      record.details.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
      try {
        writeReports(out, record);
        log(`partial results in ${out}`);
      } catch (writeError) {
        log(`could not write the partial results: ${describeError(writeError)}`);
      }
    }
    process.exit(1);
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = withParticipants(args.quick ? QUICK : FULL, args.participants);
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  installQuietRuntime('ERROR');
  log(`${args.quick ? 'quick' : 'full'} run: ${[...args.only].join(', ')}`);
  const workDir = mkdtempSync(join(tmpdir(), 'convoy-bench-'));
  const tag = `bench-${Date.now().toString(36)}`;
  try {
    const bundlePaths = await bundles(workDir, args.rebundle);
    const dev = await startDevServer({ metricsPort: await freePort() });
    log(`dev server at ${dev.address} (${dev.cli.version})`);
    const record = emptyRecord(machineInfo(dev), config, args.quick, startedAt);
    pending = { record, out: args.out, startedAt };
    try {
      const ctx = benchContext(dev, dev.env.client, tag, bundlePaths);
      const shared = BENCHMARKS.filter((b): b is SharedServerBenchmark => b !== 'server-settings');
      for (const benchmark of shared.filter((b) => args.only.has(b)))
        await record.attempt(benchmark, () => SCENARIOS[benchmark](ctx, config, record));
    } finally {
      await dev.stop().catch((error: unknown) => log(`stopping the dev server: ${describeError(error)}`));
    }
    // Its own servers, one after the other, once the run's server has gone.
    if (args.only.has('server-settings'))
      await record.attempt('server-settings', () =>
        serverSettingsScenario({ tag, ...bundlePaths }, config, record),
      );
    const { details } = record;
    details.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
    record.note(
      `1-minute load average ${round(loadAtStart, 2)} at the start and ${round(loadavg()[0]!, 2)} at the end, on ${record.results.machine.cores} cores ` +
        '(the dev server, the worker process and the runner share them; anything else running on the machine shows up in the figures).',
    );
    pending = undefined;
    writeReports(args.out, record);
    log(
      `done in ${round(details.durationSeconds)} s; results in ${args.out}${details.errors.length ? ` (${details.errors.length} benchmark(s) failed)` : ''}`,
    );
    process.exitCode = details.errors.length ? 1 : 0;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.on('uncaughtException', writeWhatWeHave('uncaught exception'));
  process.on('unhandledRejection', writeWhatWeHave('unhandled rejection'));
  main().catch((error: unknown) => {
    log(`benchmark run failed: ${describeError(error)}`);
    process.exit(1);
  });
}
