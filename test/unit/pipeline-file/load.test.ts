/**
 * Hostile and broken input: whatever a pipeline file holds, validation answers with exit 2 and a
 * clear line, never a crash, a stack trace or a polluted prototype.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MAX_NESTING_DEPTH,
  MAX_PIPELINE_FILE_BYTES,
  parsePipelineText,
} from '../../../src/pipeline-file/load';
import { parsePipelineFile } from '../../../src/pipeline-file/schema';
import { runValidate } from '../../../src/cli/validate';
import { basePipeline, cleanupTempDirs, makeTempDir, validate, validateFile, writePipeline } from './helpers';

afterAll(cleanupTempDirs);

describe('files that are not there or not files', () => {
  it('reports a missing file with exit 2 and no stack trace', () => {
    const file = join(makeTempDir(), 'missing.yaml');
    const result = validateFile(file);
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['pipeline.yaml: file not found']);
    expect(result.out).toEqual([]);
  });

  it('reports a directory', () => {
    const dir = join(makeTempDir(), 'pipelines.yaml');
    mkdirSync(dir);
    expect(validateFile(dir).err).toEqual(['pipeline.yaml: is a directory, not a pipeline file']);
  });

  it('reports an empty file', () => {
    const result = validate('   \n# only a comment\n');
    expect(result.code).toBe(2);
    expect(result.err).toEqual(['pipeline.yaml: the file is empty; expected a pipeline definition']);
  });

  it('rejects a file over 5 MiB before parsing it', () => {
    const file = writePipeline(`name: big\n# ${'x'.repeat(MAX_PIPELINE_FILE_BYTES)}\n`);
    const result = validateFile(file);
    expect(result.code).toBe(2);
    expect(result.err).toHaveLength(1);
    expect(result.err[0]).toMatch(
      /^pipeline\.yaml: the file is too large \(\d+ bytes; the limit is 5242880 bytes, 5 MiB\)$/,
    );
  });
});

describe('malformed and hostile YAML', () => {
  it('reports malformed YAML with a line and column', () => {
    const result = validate('name: x\n  stages: - :\n\t- [');
    expect(result.code).toBe(2);
    for (const line of result.err) expect(line).toMatch(/^pipeline\.yaml: line \d+, column \d+: /);
  });

  it('reports duplicate keys', () => {
    const result = validate('name: a\nname: b\nstages: []\n');
    expect(result.code).toBe(2);
    expect(result.err[0]).toMatch(/^pipeline\.yaml: line 2, column 1: invalid YAML: Map keys must be unique/);
  });

  it('reports several documents in one file', () => {
    const result = validate('name: a\n---\nname: b\n');
    expect(result.code).toBe(2);
    expect(result.err.some((line) => line.includes('exactly one YAML document'))).toBe(true);
  });

  it('reports unknown YAML tags instead of silently reading them as strings', () => {
    const result = validate('name: !!js/function "function () {}"\nstages: []\n');
    expect(result.code).toBe(2);
    expect(result.err[0]).toContain('Unresolved tag');
  });

  it.each([
    ['100k nested flow lists', '['.repeat(100_000) + ']'.repeat(100_000)],
    ['100k nested block lists on one line', '- '.repeat(100_000) + 'x'],
    ['100k nested mappings', '{a: '.repeat(100_000) + '1' + '}'.repeat(100_000)],
    [
      '3000 mappings nested by indentation',
      Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n') + ' 1\n',
    ],
    [
      'nesting just past the limit',
      `name: x\nstages: ${'['.repeat(MAX_NESTING_DEPTH + 1)}${']'.repeat(MAX_NESTING_DEPTH + 1)}\n`,
    ],
  ])('rejects %s as nested too deeply', (_label, text) => {
    const result = validate(text);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain('nested too deeply');
  });

  it('stops an alias bomb', () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
    ].join('\n');
    const result = validate(bomb);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toMatch(/too many aliases|too many values/);
  });

  it('stops a self-referencing alias', () => {
    const result = validate('a: &a [*a]\n');
    expect(result.code).toBe(2);
  });

  it('accepts ordinary aliases (shared step lists)', () => {
    const pipeline = `
name: shared
stages:
  - name: deploy
    workflows:
      - name: a
        steps: &steps
          - { name: s, type: shell, command: "true" }
      - name: b
        steps: *steps
`;
    expect(validate(pipeline).code).toBe(0);
  });
});

describe('prototype keys', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each([
    ['at the top', '__proto__: { polluted: true }\nname: x\nstages: []\n', '__proto__'],
    [
      'in variables',
      'name: x\nvariables:\n  __proto__: { polluted: true }\nstages: []\n',
      'variables.__proto__',
    ],
    ['in JSON', '{"name": "x", "stages": [], "__proto__": {"polluted": true}}', '__proto__'],
  ])('rejects __proto__ %s, naming it', (_where, text, path) => {
    const result = validate(text, undefined, text.startsWith('{') ? 'pipeline.json' : 'pipeline.yaml');
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain(`${path}: the key '__proto__' is not allowed`);
  });

  it('treats constructor and prototype as unknown fields, and as ordinary variable names', () => {
    const pipeline = basePipeline();
    pipeline.constructor = { polluted: true };
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.err).toEqual(["pipeline.yaml: constructor: unknown field 'constructor'"]);

    const withVars = basePipeline();
    withVars.variables = { constructor: 'c', prototype: 'p', toString: 't' };
    withVars.stages[0].workflows[1].steps[0].command = 'echo ${{ vars.constructor }} ${{ vars.toString }}';
    expect(validate(withVars).code).toBe(0);
  });

  it('does not find inherited properties through ${{ vars.NAME }}', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].command = 'echo ${{ vars.hasOwnProperty }}';
    const result = validate(pipeline);
    expect(result.code).toBe(2);
    expect(result.err[0]).toContain("unknown variable 'hasOwnProperty'");
  });

  it('produces objects without a prototype', () => {
    const loaded = parsePipelineText('a: { b: 1 }\n');
    expect(loaded.ok).toBe(true);
    if (loaded.ok) {
      const data = loaded.data as Record<string, Record<string, unknown>>;
      expect(Object.getPrototypeOf(data)).toBeNull();
      expect(Object.getPrototypeOf(data['a'])).toBeNull();
    }
  });
});

describe('JSON files', () => {
  it('validates a JSON pipeline', () => {
    const result = validate(JSON.stringify(basePipeline()), undefined, 'pipeline.json');
    expect(result.code).toBe(0);
    expect(result.out[0]).toMatch(/^pipeline\.json: OK/);
  });

  it('reads JSON with the JSON schema: a bare `yes` is an error, not a string', () => {
    const result = validate('{"name": yes, "stages": []}', undefined, 'pipeline.json');
    expect(result.code).toBe(2);
  });
});

describe('never a crash', () => {
  it('answers every random text with an exit code and lines, never a throw', () => {
    const dir = makeTempDir();
    const file = join(dir, 'random.yaml');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        writeFileSync(file, text);
        const lines: string[] = [];
        const code = runValidate(file, {}, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
        expect([0, 2]).toContain(code);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line).not.toMatch(/\n\s+at /);
      }),
      { numRuns: 200 },
    );
  });

  it('answers random YAML-looking structures with issues, never a throw', () => {
    const pipelineish = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'name',
            'stages',
            'workflows',
            'steps',
            'type',
            'identifier',
            'timeoutMs',
            'on',
            'action',
            'when',
            'var',
            'forEach',
            'x',
          ),
          tie('value'),
          { maxKeys: 5 },
        ),
      ),
    })).value;
    fc.assert(
      fc.property(pipelineish, (data) => {
        const parsed = parsePipelineFile(data);
        if (!parsed.ok) for (const issue of parsed.issues) expect(typeof issue.message).toBe('string');
      }),
      { numRuns: 500 },
    );
  });
});
