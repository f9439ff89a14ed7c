/** Harness value formats: durations, runtime inputs, names; and the field readers. */
import { ImportReport } from '../../../src/harness-import/report';
import {
  HarnessReader,
  convoyName,
  literalOrDefault,
  parseHarnessDuration,
  readRuntimeInput,
  uniqueName,
} from '../../../src/harness-import/values';

const at = { file: 'p.yaml', path: ['pipeline', 'timeout'] };

describe('parseHarnessDuration', () => {
  it.each([
    ['10m', 600_000],
    ['1h 30m', 5_400_000],
    ['1h30m', 5_400_000],
    ['45s', 45_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['500ms', 500],
    ['1m 30s', 90_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseHarnessDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'ten minutes', '10x', '-1m', '1.5h'])('rejects %p', (text) => {
    expect(parseHarnessDuration(text)).toBeUndefined();
  });
});

describe('runtime inputs', () => {
  it('reads a literal, an input, and an input with a default (quotes and other modifiers aside)', () => {
    expect(readRuntimeInput('services')).toEqual({ kind: 'literal', value: 'services' });
    expect(readRuntimeInput('<+input>')).toEqual({ kind: 'input' });
    expect(readRuntimeInput('<+input>.default(x)')).toEqual({ kind: 'input', default: 'x' });
    expect(readRuntimeInput("<+input>.allowedValues(a,b).default('b')")).toEqual({
      kind: 'input',
      default: 'b',
    });
    expect(readRuntimeInput('<+input>.executionInput().default(10m)')).toEqual({
      kind: 'input',
      default: '10m',
    });
  });

  it('takes the default with a warning, and reports an input without one as an error', () => {
    const report = new ImportReport();
    expect(literalOrDefault('<+input>.default(sync)', at, report, 'barrier identifier')).toBe('sync');
    expect(literalOrDefault('<+input>', at, report, 'barrier identifier')).toBeUndefined();
    expect(literalOrDefault('plain', at, report, 'barrier identifier')).toBe('plain');
    expect(report.warnings).toEqual([
      {
        file: 'p.yaml',
        path: 'pipeline.timeout',
        message: "runtime input '<+input>.default(sync)': imported with its default 'sync'",
      },
    ]);
    expect(report.errors.map((e) => e.message)).toEqual([
      "runtime input '<+input>' has no default; write the barrier identifier itself",
    ]);
  });
});

describe('names', () => {
  it('derives Convoy names from Harness identifiers and names', () => {
    expect(convoyName('deploy_payments')).toBe('deploy_payments');
    expect(convoyName('Deploy payments')).toBe('Deploy-payments');
    expect(convoyName('_canary')).toBe('canary');
    expect(convoyName('STAGE 1')).toBe('STAGE-1');
    expect(convoyName('Rollout (EU) ')).toBe('Rollout-EU');
    expect(convoyName('___')).toBeUndefined();
    expect(convoyName('x'.repeat(200))).toHaveLength(128);
  });

  it('makes names unique with a suffix', () => {
    const used = new Set<string>();
    expect([
      uniqueName('a', used),
      uniqueName('a', used),
      uniqueName('a', used),
      uniqueName('b', used),
    ]).toEqual(['a', 'a-2', 'a-3', 'b']);
  });
});

describe('HarnessReader', () => {
  it('reads fields, treats null as absent, and reports wrong types and missing required fields', () => {
    const report = new ImportReport();
    const reader = new HarnessReader(report);
    expect(reader.text(42, at)).toBe('42');
    expect(reader.text(null, at)).toBeUndefined();
    expect(reader.integer('600000', at)).toBe(600000);
    expect(reader.flag('true', at, false)).toBe(true);
    expect(reader.mapping([], at)).toBeUndefined();
    expect(reader.list(undefined, at, true)).toBeUndefined();
    expect(reader.integer(-1, at)).toBeUndefined();
    expect(report.errors.map((e) => e.message)).toEqual([
      'expected a mapping, got a list',
      'missing required field',
      'expected a whole number, got -1',
    ]);
  });

  it('warns about every key it neither reads nor knows to be inert, and passes nulls over', () => {
    const report = new ImportReport();
    new HarnessReader(report).keys(
      { identifier: 'x', tags: {}, notificationRules: [{}], timeout: '1h', delegateSelectors: null },
      { file: 'p.yaml', path: ['pipeline'] },
      { read: ['identifier'], inert: ['tags'] },
    );
    expect(report.warnings).toEqual([
      {
        file: 'p.yaml',
        path: 'pipeline.notificationRules',
        message: "not carried over: Convoy has no counterpart for 'notificationRules' here",
      },
      {
        file: 'p.yaml',
        path: 'pipeline.timeout',
        message: "not carried over: Convoy has no counterpart for 'timeout' here",
      },
    ]);
  });
});
