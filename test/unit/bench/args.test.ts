import { join, resolve } from 'node:path';
import { BENCHMARKS, benchCommand, parseArgs } from '../../../bench/args';
import { FULL, withParticipants } from '../../../bench/config';
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
      participants: undefined,
    });
  });

  it('reads --quick, --rebundle, --only and --out, with or without =', () => {
    const args = parse('--quick', '--only', 'floor, back-to-back', '--out=tmp/x', '--rebundle');
    expect(args).toEqual({
      quick: true,
      only: new Set(['floor', 'back-to-back']),
      out: resolve('tmp/x'),
      rebundle: true,
      participants: undefined,
    });
    expect(parse('--only=timeout').only).toEqual(new Set(['timeout']));
  });

  it('names the unknown benchmark and the known ones', () => {
    expect(() => parse('--only', 'floor,relase')).toThrow(
      'unknown benchmark relase; known: floor, release, train, back-to-back, failure, timeout, scale, throughput, memory, server-settings',
    );
  });

  it('reads --participants, and names what is not a participant count', () => {
    expect(parse('--participants', '2000, 200').participants).toEqual(new Set([200, 2000]));
    expect(() => parse('--participants', '200,0,x')).toThrow(
      'expected participant counts such as 200,2000; got 0, x',
    );
  });

  it('rejects unknown options and stray arguments', () => {
    expect(() => parse('--fast')).toThrow(/unknown option '--fast'/);
    expect(() => parse('floor')).toThrow(/too many arguments/);
  });
});

describe('withParticipants', () => {
  it('keeps the release and back-to-back rows of the counts given, and everything else', () => {
    const only = withParticipants(FULL, new Set([200, 2000]));
    expect(only.release.map((r) => r.participants)).toEqual([200, 2000]);
    expect(only.backToBack.map((r) => r.participants)).toEqual([200]);
    expect(only.scale).toEqual(FULL.scale);
    expect(withParticipants(FULL, undefined)).toBe(FULL);
  });
});

test('--only train selects the release-train benchmark alone', () => {
  expect(parseArgs(['--quick', '--only', 'train'], benchCommand().exitOverride()).only).toEqual(
    new Set(['train']),
  );
});
