/** Convoy's messages stay under the payload limit it ships. */
import fc from 'fast-check';
import {
  COMPRESS_ABOVE_BYTES,
  MAX_DOCUMENT_BYTES,
  MAX_INFLATED_BYTES,
  MAX_PLAN_BYTES,
  PayloadInflateError,
  compress,
  decompress,
  encodedBytes,
  fitDocument,
  jsonBytes,
  utf8Bytes,
} from '../../../src/model/message-size';
import type { PipelineResult, WorkflowResult } from '../../../src/model/result';
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

/** `length` characters that do not compress much (a fixed pseudo-random sequence, 6 bits each). */
function incompressible(length: number, seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let state = seed;
  let text = '';
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    text += alphabet[state >>> 26];
  }
  return text;
}

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

test('a larger one keeps every step and the end of each tail, and fits as sent; the original is untouched', () => {
  const doc: WorkflowResult = {
    ...noisy(0),
    steps: Array.from({ length: 300 }, (_, i) => ({
      name: `step-${i}`,
      type: 'shell',
      status: 'succeeded' as const,
      attempts: 1,
      output: { exitCode: 0, stdoutTail: `${incompressible(4000, i)}end-${i}` },
    })),
  };
  const before = JSON.stringify(doc);
  expect(encodedBytes(doc)).toBeGreaterThan(MAX_PLAN_BYTES);
  const fitted = fitDocument(doc);
  expect(encodedBytes(fitted)).toBeLessThanOrEqual(MAX_PLAN_BYTES);
  expect(fitted.steps).toHaveLength(300);
  fitted.steps.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-${i}$`)));
  expect(JSON.stringify(doc)).toBe(before);
});

test('below the compression threshold the budget is the JSON size', () => {
  const doc = noisy(20);
  expect(jsonBytes(doc)).toBeLessThan(COMPRESS_ABOVE_BYTES);
  const fitted = fitDocument(doc, 64 * 1024);
  expect(jsonBytes(fitted)).toBeLessThanOrEqual(64 * 1024);
  fitted.steps.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-${i}$`)));
});

/** The result document of a one-barrier pipeline of `n` workflows, as the benchmark's (issue 9). */
function wideDocument(n: number): PipelineResult {
  const at = '2026-11-30T14:00:00.000Z';
  const names = Array.from({ length: n }, (_, i) => `w${String(i).padStart(4, '0')}`);
  return {
    pipelineId: 'bench-release-2000',
    name: 'bench-release',
    status: 'succeeded',
    startedAt: at,
    endedAt: at,
    stages: [{ name: 'bench', status: 'succeeded', workflows: names }],
    workflows: names.map((name) => ({
      name,
      stage: 'bench',
      status: 'succeeded' as const,
      steps: [
        {
          name: 'wait-1',
          type: 'wait',
          status: 'succeeded' as const,
          attempts: 1,
          startedAt: at,
          endedAt: at,
        },
        {
          name: 'cross-1',
          type: 'barrier',
          status: 'succeeded' as const,
          attempts: 1,
          startedAt: at,
          endedAt: at,
        },
      ],
    })),
    barriers: [
      {
        stage: 'bench',
        identifier: 'b1',
        participants: names,
        status: 'crossed',
        arrivals: Object.fromEntries(names.map((name) => [name, at])),
        resolvedAt: at,
      },
    ],
  };
}

test("2,000 workflows' result document (806 KB of JSON, over the shipped 768 KiB) is sent whole, compressed", () => {
  const doc = wideDocument(2000);
  expect(jsonBytes(doc)).toBeGreaterThan(768 * 1024);
  expect(encodedBytes(doc)).toBeLessThan(jsonBytes(doc) / 10);
  expect(fitDocument(doc)).toBe(doc);
});

test('payloads up to the threshold are measured plain; larger ones compressed', () => {
  const small = { text: 'x'.repeat(COMPRESS_ABOVE_BYTES - 20) };
  expect(encodedBytes(small)).toBe(jsonBytes(small));
  const large = { text: 'x'.repeat(COMPRESS_ABOVE_BYTES) };
  expect(encodedBytes(large)).toBeLessThan(10_000);
});

test('compressed bytes inflate back only to the size they declare', () => {
  const original = new TextEncoder().encode(incompressible(10_000, 7) + 'y'.repeat(50_000));
  const packed = compress(original);
  expect(decompress(packed, original.length)).toEqual(original);
  expect(() => decompress(packed, original.length - 1)).toThrow(PayloadInflateError);
  expect(() => decompress(packed, original.length + 1)).toThrow(PayloadInflateError);
  expect(() => decompress(packed, MAX_INFLATED_BYTES + 1)).toThrow(/at most/);
  expect(() => decompress(new TextEncoder().encode('not deflate'), 11)).toThrow(PayloadInflateError);
});

test('a plan of 1,000 workflows × 4 barriers (907 KB of JSON) is within what Convoy sends', () => {
  const workflows = Array.from(
    { length: 1000 },
    (_, i) =>
      `      - name: service-${i}
        steps:
` +
      [1, 2, 3, 4]
        .map(
          (b) =>
            `          - { name: wait-${b}, type: wait, durationMs: ${1000 + (i % 20) * 10} }
` +
            `          - { name: cross-${b}, type: barrier, identifier: b${b} }
`,
        )
        .join(''),
  ).join('');
  const text = `name: wide
stages:
  - name: deploy
    workflows:
${workflows}`;
  const { plan } = compilePipelineText(text, 'wide.yaml', { pipelineId: 'p' });
  expect(jsonBytes({ plan })).toBeGreaterThan(768 * 1024);
  expect(encodedBytes({ plan })).toBeLessThanOrEqual(MAX_PLAN_BYTES);
});

test('a plan larger than Convoy sends is a validation error naming the figure', () => {
  const workflows = Array.from(
    { length: 1500 },
    (_, i) =>
      `      - { name: service-${i}, steps: [{ name: deploy, type: shell, command: "./deploy.sh ${incompressible(500, i)}" }] }`,
  ).join('\n');
  const text = `name: huge\nstages:\n  - name: deploy\n    workflows:\n${workflows}\n`;
  expect(() => compilePipelineText(text, 'huge.yaml', { pipelineId: 'p' })).toThrow(PipelineValidationError);
  expect(() => compilePipelineText(text, 'huge.yaml', { pipelineId: 'p' })).toThrow(
    /stages: the compiled pipeline is [\d,]+ bytes compressed, more than the 524,288 Convoy sends as a workflow input/,
  );
});

test("the steps of a parallel step's branches are shortened too", () => {
  const inner: WorkflowResult['steps'] = Array.from({ length: 300 }, (_, i) => ({
    name: `step-${i}`,
    type: 'shell',
    status: 'succeeded' as const,
    attempts: 1,
    output: { exitCode: 0, stdoutTail: `${incompressible(4000, i)}end-${i}` },
  }));
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
  expect(encodedBytes(doc)).toBeGreaterThan(MAX_DOCUMENT_BYTES);
  const fitted = fitDocument(doc);
  expect(encodedBytes(fitted)).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
  const steps = fitted.steps[0]!.branches![0]!.steps;
  expect(steps).toHaveLength(300);
  steps.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-${i}$`)));
});

test("a child pipeline's document nested in its step is shortened too, branches inside it included", () => {
  const noisySteps = (count: number, tag: string): WorkflowResult['steps'] =>
    Array.from({ length: count }, (_, i) => ({
      name: `${tag}-${i}`,
      type: 'shell',
      status: 'succeeded' as const,
      attempts: 1,
      output: { exitCode: 0, stdoutTail: `${incompressible(4000, i + tag.length * 1000)}end-${tag}-${i}` },
    }));
  const childDoc: PipelineResult = {
    pipelineId: 'p-1/api/db',
    name: 'db',
    status: 'succeeded',
    startedAt: '2026-11-30T08:00:00.000Z',
    stages: [{ name: 's', status: 'succeeded', workflows: ['migrate', 'split'] }],
    barriers: [],
    workflows: [
      { name: 'migrate', stage: 's', status: 'succeeded', steps: noisySteps(150, 'own') },
      {
        name: 'split',
        stage: 's',
        status: 'succeeded',
        steps: [
          {
            name: 'rollout',
            type: 'parallel',
            status: 'succeeded',
            attempts: 1,
            branches: [
              { name: 'b', participant: 'split/b', status: 'succeeded', steps: noisySteps(150, 'branch') },
            ],
          },
        ],
      },
    ],
  };
  const doc: WorkflowResult = {
    ...noisy(0),
    steps: [{ name: 'db', type: 'pipeline', status: 'succeeded', attempts: 1, pipeline: childDoc }],
  };
  expect(encodedBytes(doc)).toBeGreaterThan(MAX_DOCUMENT_BYTES);
  const fitted = fitDocument(doc);
  expect(encodedBytes(fitted)).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
  const nested = fitted.steps[0]!.pipeline!;
  const own = nested.workflows[0]!.steps;
  const inBranch = nested.workflows[1]!.steps[0]!.branches![0]!.steps;
  expect([own.length, inBranch.length]).toEqual([150, 150]);
  own.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-own-${i}$`)));
  inBranch.forEach((step, i) => expect(step.output?.stdoutTail).toMatch(new RegExp(`end-branch-${i}$`)));
  // The original is untouched.
  expect(doc.steps[0]!.pipeline!.workflows[0]!.steps[0]!.output!.stdoutTail!.length).toBeGreaterThan(4000);
});
