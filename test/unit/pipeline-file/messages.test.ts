/** What users read: control characters escaped, binary files named, ids and --var checked. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkPipelineId, compilePipelineText } from '../../../src/pipeline-file/compile';
import {
  escapeControlCharacters,
  formatIssue,
  PipelineValidationError,
} from '../../../src/pipeline-file/issues';
import { basePipeline, cleanupTempDirs, makeTempDir, validate, validateFile } from './helpers';

afterAll(cleanupTempDirs);

test('control characters from a file are escaped, so a message stays one line and inert', () => {
  expect(escapeControlCharacters('a\nb\tc\u001b[31mred\u0000\u009b\u2028')).toBe(
    'a\\nb\\tc\\x1b[31mred\\x00\\x9b\\u2028',
  );
  expect(formatIssue('p.yaml', { path: 'stages[0]', message: "unknown field 'x\u001b]0;pwned\u0007'" })).toBe(
    "p.yaml: stages[0]: unknown field 'x\\x1b]0;pwned\\x07'",
  );
  const result = validate('name: ok\nstages:\n  - name: s\n    workflows: []\n    "evil\\u001b[2J": 1\n');
  expect(result.code).toBe(2);
  expect(result.errors.join('\n')).not.toMatch(/\u001b/);
  expect(result.errors.join('\n')).toContain('\\x1b[2J');
});

test('a binary file is "not a text file", exit 2', () => {
  const file = join(makeTempDir(), 'pipeline.yaml');
  writeFileSync(file, Buffer.from([0x6e, 0x61, 0x00, 0xff, 0xfe, 0x01]));
  const result = validateFile(file);
  expect(result.code).toBe(2);
  expect(result.errors).toEqual([
    'pipeline.yaml: is not a text file (a pipeline file is UTF-8 YAML or JSON)',
  ]);
  writeFileSync(file, Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xc3, 0x28])); // invalid UTF-8
  expect(validateFile(file).errors).toEqual([
    'pipeline.yaml: is not a text file (a pipeline file is UTF-8 YAML or JSON)',
  ]);
});

test('pipeline ids keep child ids unambiguous', () => {
  expect(checkPipelineId('release-42.eu_1')).toBeUndefined();
  for (const bad of ['a/b', '', '-lead', 'has space', 'x'.repeat(201), 'naïve', 'a\nb']) {
    expect(checkPipelineId(bad)).toBeDefined();
  }
  const text = `name: p\nstages:\n  - name: s\n    workflows:\n      - { name: w, steps: [{ name: a, type: shell, command: "true" }] }\n`;
  expect(() => compilePipelineText(text, 'p.yaml', { pipelineId: 'team/release' })).toThrow(
    PipelineValidationError,
  );
  try {
    compilePipelineText(text, 'p.yaml', { pipelineId: 'team/release' });
  } catch (error) {
    expect((error as PipelineValidationError).lines[0]).toMatch(
      /^p\.yaml: --id: a pipeline id is letters, digits/,
    );
  }
});

test('--var naming a variable the file does not declare is a warning, not an error', () => {
  const pipeline = basePipeline();
  const result = validate(pipeline, { version: '2.0.0', colour: 'blue' });
  expect(result.code).toBe(0);
  expect(result.warnings).toEqual([
    "warning: pipeline.yaml: --var colour: the file declares no variable 'colour': the value is only exported as CONVOY_VAR_COLOUR",
  ]);
});
