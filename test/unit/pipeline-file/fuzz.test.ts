/**
 * Fuzzing the pipeline-file loader and validation: whatever a file or an object holds, the answer
 * is a valid plan or a list of issues; never an exception, never an "internal error". Garbage
 * and near-valid YAML and JSON, keys that mean something to JavaScript (`length`, `toString`,
 * `valueOf`, `__proto__`, `constructor`), deep nesting, alias bombs and huge files. Run counts
 * keep the file to a few seconds in CI.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { validatePipelineData } from '../../../src/pipeline-file/compile';
import { parsePipelineText } from '../../../src/pipeline-file/load';
import { basePipeline, cleanupTempDirs, validate } from './helpers';

afterAll(cleanupTempDirs);

/** Keys JavaScript (and zod's checks) treat specially, mixed with the format's own. */
const trickyKey = fc.constantFrom(
  'length',
  'toString',
  'valueOf',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'then',
  'name',
  'stages',
  'workflows',
  'steps',
  'type',
  'command',
  'identifier',
  'timeoutMs',
  'variables',
  'env',
  'forEach',
  'failureStrategies',
  'on',
  'action',
);

const value: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(trickyKey, fc.string({ maxLength: 8 })), tie('value'), {
      maxKeys: 5,
      noNullPrototype: false,
    }),
  ),
})).value;

/** Near-valid: the base pipeline with one field, anywhere in it, replaced by something else. */
function paths(node: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (node === null || typeof node !== 'object') return [at];
  const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
  return [at, ...keys.flatMap((key) => paths((node as Record<string, unknown>)[key], [...at, key]))];
}
const basePaths = paths(basePipeline()).filter((p) => p.length > 0);
const nearValid = fc
  .tuple(fc.constantFrom(...basePaths), value, fc.option(trickyKey, { nil: undefined }))
  .map(([path, replacement, extraKey]) => {
    const pipeline = basePipeline() as unknown as Record<string | number, unknown>;
    let node: Record<string | number, unknown> = pipeline;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (extraKey === undefined) node[last] = replacement;
    else node[last] = { [extraKey]: replacement };
    return pipeline;
  });

/** The answer must be a plan or issues; an internal error is a bug wherever it comes from. */
function expectAnswered(data: unknown): void {
  const report = validatePipelineData(data, 'fuzz.yaml');
  expect('plan' in report ? [] : report.errors.filter((e) => /internal error/i.test(e.message))).toEqual([]);
}

function expectTextAnswered(text: string, format: 'yaml' | 'json'): void {
  const loaded = parsePipelineText(text, format);
  if (loaded.ok) expectAnswered(loaded.data);
  else expect(loaded.issues.length).toBeGreaterThan(0);
}

describe('the loader and validation answer every input', () => {
  it('the cases found by fuzzing', () => {
    for (const data of [
      { name: { length: {} }, stages: { length: 1 } },
      { name: 'x', stages: [{ name: { length: { valueOf: 'x', toString: 'y' } }, workflows: [] }] },
      { name: 'x', stages: { length: { length: {} } } },
      { name: 'x', variables: { length: {} }, stages: [] },
      // Found by CI's run: a list as `length`, its object turned into a string by the comparison.
      { name: { length: [{}] }, stages: [] },
      { name: { length: [Object.create(null)] }, stages: [] },
      // Found by CI's run: zod names a null-prototype mapping's type by its `constructor.name`.
      { name: { constructor: { name: {} } }, stages: [] },
      { name: 'x', variables: { constructor: { name: [{}] } }, stages: [] },
    ]) {
      expectAnswered(data);
      expectTextAnswered(stringify(data), 'yaml');
      expectTextAnswered(JSON.stringify(data), 'json');
    }
    expect(validate('name: {length: {}}\nstages: {length: 1}\n').err).toEqual([
      'pipeline.yaml: name: expected a string, got a mapping',
      'pipeline.yaml: stages: expected a list, got a mapping',
    ]);
  });

  it('random objects with tricky keys, as data, YAML and JSON', () => {
    fc.assert(
      fc.property(value, (data) => {
        expectAnswered(data);
        expectTextAnswered(stringify(data), 'yaml');
        expectTextAnswered(JSON.stringify(data) ?? 'null', 'json');
      }),
      { numRuns: 300 },
    );
  });

  it('near-valid pipelines: one field anywhere replaced or wrapped', () => {
    fc.assert(
      fc.property(nearValid, (data) => {
        expectAnswered(data);
        expectTextAnswered(stringify(data), 'yaml');
      }),
      { numRuns: 400 },
    );
  });

  it('garbage and mangled text', () => {
    const base = stringify(basePipeline());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          // A slice of a valid file with garbage spliced in.
          fc
            .tuple(fc.nat(base.length), fc.nat(base.length), fc.string({ maxLength: 30 }))
            .map(
              ([from, to, junk]) => base.slice(0, Math.min(from, to)) + junk + base.slice(Math.max(from, to)),
            ),
        ),
        fc.constantFrom('yaml' as const, 'json' as const),
        (text, format) => expectTextAnswered(text, format),
      ),
      { numRuns: 300 },
    );
  });

  it('deep nesting, in every notation', () => {
    for (const depth of [63, 64, 65, 200, 201, 5000, 100_000]) {
      expectTextAnswered(`${'['.repeat(depth)}${']'.repeat(depth)}`, 'json');
      expectTextAnswered(`name: x\nstages: ${'['.repeat(depth)}${']'.repeat(depth)}`, 'yaml');
      expectTextAnswered(`name: x\nstages:\n${'- '.repeat(depth)}x\n`, 'yaml');
      expectTextAnswered(`${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`, 'yaml');
    }
    let nested: unknown = 'x';
    for (let i = 0; i < 10_000; i++) nested = { length: nested };
    expectAnswered({ name: 'x', stages: nested });
  });

  it('alias bombs and self references', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    expectTextAnswered(`${levels.join('\n')}\nname: x\nstages: *j\n`, 'yaml');
    expectTextAnswered('name: &n x\nstages: &s [*s]\n', 'yaml');
    expectTextAnswered('name: x\nstages:\n  - &w {name: s, workflows: [*w]}\n', 'yaml');
  });

  it('huge files: a 5 MiB line, and a 6 MiB file refused before parsing', () => {
    expectTextAnswered(`name: ${'x'.repeat(5 * 1024 * 1024)}\nstages: []\n`, 'yaml');
    expect(validate(`name: x\n# ${'y'.repeat(6 * 1024 * 1024)}\n`).err[0]).toMatch(/too large/);
  });
});
