/**
 * The pipeline file's JSON Schema (schema/pipeline.schema.json): the committed file is what the
 * zod schema generates, and it accepts the pipelines we ship and rejects what the format forbids
 * field by field, as an editor using it would.
 */
import Ajv from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { pipelineJsonSchema, pipelineJsonSchemaText } from '../../../src/pipeline-file/json-schema';
import { basePipeline, type PipelineDraft } from './helpers';

const repo = join(__dirname, '..', '..', '..');
const schemaFile = join(repo, 'schema', 'pipeline.schema.json');
const validate = new Ajv({ allErrors: true }).compile(pipelineJsonSchema());

test('the committed schema is the generated one (regenerate with `npm run schema`)', () => {
  expect(readFileSync(schemaFile, 'utf8')).toBe(pipelineJsonSchemaText());
});

test('the examples and the README pipeline pass, and each example names the schema for editors', () => {
  const examples = readdirSync(join(repo, 'examples')).filter((name) => name.endsWith('.yaml'));
  expect(examples.length).toBeGreaterThan(0);
  for (const name of examples) {
    const text = readFileSync(join(repo, 'examples', name), 'utf8');
    expect({ name, firstLine: text.split('\n')[0] }).toEqual({
      name,
      firstLine: '# yaml-language-server: $schema=../schema/pipeline.schema.json',
    });
    expect({ name, valid: validate(parse(text)), errors: validate.errors }).toEqual({
      name,
      valid: true,
      errors: null,
    });
  }
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const example = /```yaml\n(name: checkout-release[\s\S]*?)```/.exec(readme)![1]!;
  expect(validate(parse(example))).toBe(true);
  expect(validate(basePipeline())).toBe(true);
});

test.each([
  ['an unknown field', (p: PipelineDraft) => (p.stages[0].workflows[0].steps[0].comand = 'x')],
  ['an unknown step type', (p: PipelineDraft) => (p.stages[0].workflows[0].steps[0].type = 'docker')],
  [
    'a barrier in rollbackSteps',
    (p: PipelineDraft) => p.stages[0].workflows[0].rollbackSteps.push(p.stages[0].workflows[0].steps[1]),
  ],
  ['a zero timeout', (p: PipelineDraft) => (p.stages[0].workflows[0].steps[0].timeoutMs = 0)],
  [
    'an expression as barrier identifier',
    (p: PipelineDraft) => (p.stages[0].workflows[0].steps[1].identifier = '${{ vars.x }}'),
  ],
  ['a bad name', (p: PipelineDraft) => (p.stages[0].name = 'has space')],
  ['no stages', (p: PipelineDraft) => (p.stages = [])],
  ['an unknown action', (p: PipelineDraft) => (p.failureStrategies = [{ on: ['any'], action: 'explode' }])],
])('%s is rejected', (_what, breakIt) => {
  const pipeline = basePipeline();
  breakIt(pipeline);
  expect(validate(pipeline)).toBe(false);
});
