import { join, resolve } from 'node:path';
import { BENCHMARKS, benchCommand, parseArgs } from '../../../bench/args';
import { packageRoot } from '../../../src/package/root';

/** Throws instead of exiting, and keeps commander's message off the test output. */
const parse = (...argv: string[]) =>
  parseArgs(
    argv,
    benchCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined }),
  );

describe('parseArgs', () => {
  it('runs every benchmark in full into bench/results of the package by default', () => {
    expect(parse()).toEqual({
      quick: false,
      only: new Set(BENCHMARKS),
      out: join(packageRoot(), 'bench', 'results'),
      rebundle: false,
    });
  });

  it('reads --quick, --rebundle, --only and --out, with or without =', () => {
    const args = parse('--quick', '--only', 'floor, back-to-back', '--out=tmp/x', '--rebundle');
    expect(args).toEqual({
      quick: true,
      only: new Set(['floor', 'back-to-back']),
      out: resolve('tmp/x'),
      rebundle: true,
    });
    expect(parse('--only=timeout').only).toEqual(new Set(['timeout']));
  });

  it('names the unknown benchmark and the known ones', () => {
    expect(() => parse('--only', 'floor,relase')).toThrow(
      'unknown benchmark relase; known: floor, release, back-to-back, failure, timeout, scale, throughput, memory, server-settings',
    );
  });

  it('rejects unknown options and stray arguments', () => {
    expect(() => parse('--fast')).toThrow(/unknown option '--fast'/);
    expect(() => parse('floor')).toThrow(/too many arguments/);
  });
});
