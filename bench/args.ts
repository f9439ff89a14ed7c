/** The runner's command line, parsed by commander (as the `convoy` CLI is). */
import { Command, InvalidArgumentError, Option } from 'commander';
import { join, resolve } from 'node:path';
import { packageRoot } from '../src/package/root';

/** The benchmarks, in the order a run measures them. */
export const BENCHMARKS = [
  'floor',
  'release',
  'train',
  'back-to-back',
  'failure',
  'timeout',
  'scale',
  'throughput',
  'memory',
  'server-settings',
] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

export interface Args {
  quick: boolean;
  only: Set<Benchmark>;
  /** Absolute. */
  out: string;
  rebundle: boolean;
  /** Only these participant counts of the release and back-to-back rows; all when undefined. */
  participants: Set<number> | undefined;
}

function isBenchmark(name: string): name is Benchmark {
  return (BENCHMARKS as readonly string[]).includes(name);
}

/** `--only floor,release`: known names only, so a typo stops the run before the dev server starts. */
function parseOnly(list: string): Set<Benchmark> {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !isBenchmark(n));
  if (unknown.length)
    throw new InvalidArgumentError(
      `unknown benchmark ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`,
    );
  return new Set(names.filter(isBenchmark));
}

/** `--participants 200,2000`: whole numbers above 0. */
function parseParticipants(list: string): Set<number> {
  const parts = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((p) => !/^[1-9]\d*$/.test(p));
  if (bad.length || !parts.length)
    throw new InvalidArgumentError(
      `expected participant counts such as 200,2000; got ${bad.length ? bad.join(', ') : 'none'}`,
    );
  return new Set(parts.map(Number));
}

/** The runner's options; tests add `exitOverride()` to get errors thrown instead of an exit. */
export function benchCommand(): Command {
  return new Command('bench')
    .description(
      'Measure the floor, release latency (from quiet and back-to-back, against the floor at each ' +
        'participant count), failure propagation, timeout precision, scale, throughput, worker memory ' +
        "and the server settings' cost on embedded Temporal dev servers; a release train of 10 pipelines against the same-size floor.",
    )
    .option('--quick', 'a smaller run of the same (under four minutes on 2 cores)', false)
    .addOption(
      new Option('--only <list>', `only these benchmarks, comma-separated: ${BENCHMARKS.join(',')}`)
        .argParser(parseOnly)
        .default(new Set(BENCHMARKS), 'all'),
    )
    .addOption(
      new Option('--out <dir>', 'where to write the results').default(
        join(packageRoot(), 'bench', 'results'),
        'bench/results of the repository',
      ),
    )
    .addOption(
      new Option(
        '--participants <list>',
        'only these participant counts of the release and back-to-back rows, comma-separated (e.g. 2000)',
      ).argParser(parseParticipants),
    )
    .option('--rebundle', "bundle Convoy's workflows afresh instead of using dist/workflow-bundle.js", false)
    .showHelpAfterError('(add --help for the options)');
}

/** Parses the arguments after `node run.js`. */
export function parseArgs(argv: readonly string[], command: Command = benchCommand()): Args {
  const opts = command.parse(argv, { from: 'user' }).opts<Args>();
  return {
    quick: opts.quick,
    only: opts.only,
    out: resolve(opts.out),
    rebundle: opts.rebundle,
    participants: opts.participants,
  };
}
