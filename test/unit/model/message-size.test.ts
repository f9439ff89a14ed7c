/** Convoy's messages stay under the payload limit it ships. */
import fc from 'fast-check';
import { fitDocument, jsonBytes, utf8Bytes } from '../../../src/model/message-size';
import type { WorkflowResult } from '../../../src/model/result';
import { compilePipelineText } from '../../../src/pipeline-file/compile';
import { PipelineValidationError } from '../../../src/pipeline-file/issues';

test('property: utf8Bytes is the UTF-8 length', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => expect(utf8Bytes(s)).toBe(Buffer.byteLength(s))),
  );
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => expect(utf8Bytes(s)).toBe(Buffer.byteLength(s))),
  );
});

const noisy = (steps: number): WorkflowResult => ({
  name: 'payments',
  stage: 'deploy',
  status: 'succeeded',
  steps: Array.from({ length: steps }, (_, i) => ({
    name: `step-${i}`,
    type: 'shell',
    status: 'succeeded' as const,
    attempts: 1,
    output: { exitCode: 0, stdoutTail: `${'o'.repeat(4090)}end-${i}`, stderrTail: 'é'.repeat(2048) },
  })),
});

test('a document that fits is returned as it is', () => {
  const doc = noisy(3);
  expect(fitDocument(doc, 100_000)).toBe(doc);
});

test('a larger one keeps every step and the end of each tail, and fits; the original is untouched', () => {
  const doc = noisy(200);
  const before = JSON.stringify(doc);
  const fitted = fitDocument(doc, 256 * 1024);
  expect(jsonBytes(fitted)).toBeLessThanOrEqual(256 * 1024);
  expect(fitted.steps).toHaveLength(200);
  fitted.steps.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-${i}$`)));
  expect(JSON.stringify(doc)).toBe(before);
});

test('a plan larger than Convoy sends is a validation error naming the figure', () => {
  const workflows = Array.from(
    { length: 900 },
    (_, i) =>
      `      - { name: service-${i}, steps: [{ name: deploy, type: shell, command: "./deploy.sh ${'x'.repeat(700)}" }] }`,
  ).join('\n');
  const text = `name: huge\nstages:\n  - name: deploy\n    workflows:\n${workflows}\n`;
  expect(() => compilePipelineText(text, 'huge.yaml', { pipelineId: 'p' })).toThrow(PipelineValidationError);
  expect(() => compilePipelineText(text, 'huge.yaml', { pipelineId: 'p' })).toThrow(
    /stages: the compiled pipeline is [\d,]+ bytes, more than the 655,360 Convoy sends as a workflow input/,
  );
});

test("the steps of a parallel step's branches are shortened too", () => {
  const inner = noisy(100).steps;
  const doc: WorkflowResult = {
    ...noisy(0),
    steps: [
      {
        name: 'rollout',
        type: 'parallel',
        status: 'succeeded',
        attempts: 1,
        branches: [{ name: 'canary', participant: 'payments/canary', status: 'succeeded', steps: inner }],
      },
    ],
  };
  const fitted = fitDocument(doc, 128 * 1024);
  expect(jsonBytes(fitted)).toBeLessThanOrEqual(128 * 1024);
  const steps = fitted.steps[0]!.branches![0]!.steps;
  expect(steps).toHaveLength(100);
  steps.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-${i}$`)));
});
