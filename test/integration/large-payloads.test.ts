/**
 * Payloads larger than the server's blob limit as plain JSON (issue 9: the result document of a
 * 2,000-participant barrier was 806,416 bytes, over the shipped 768 KiB, and its workflow task was
 * retried forever): Convoy's codec sends them compressed, so the plan starts and the result
 * document comes back whole, each payload in history within a stock server's 512 KiB warning.
 */
import { METADATA_ENCODING_KEY } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { COMPRESSED_ENCODING } from '../../src/codec/compression-codec';
import { MAX_PAYLOAD_BYTES, jsonBytes } from '../../src/model/message-size';
import { compilePipelineText } from '../../src/pipeline-file/compile';
import { connectTestEnv, runYamlPipeline, type TestEnv } from './harness';

let env: TestEnv;
beforeAll(async () => {
  env = await connectTestEnv('large-payloads');
  await env.startWorker();
});
afterAll(() => env.close());

/** Steps skipped by `when` cost no history, yet each has its entry in the plan and the document. */
const SKIPPED_STEPS = 1400;
const workflow = (name: string, skipped = SKIPPED_STEPS) =>
  `      - name: ${name}\n        steps:\n` +
  `          - { name: sync, type: barrier, identifier: sync, timeoutMs: 60000 }\n` +
  Array.from(
    { length: skipped },
    (_, i) =>
      `          - { name: skipped-${String(i).padStart(4, '0')}-${'s'.repeat(100)}, type: shell, command: "true", ` +
      `when: { var: never, equals: "yes" } }\n`,
  ).join('') +
  `          - { name: done, type: shell, command: "echo done" }\n`;
const WIDE = `name: wide\nvariables: { never: "no" }\nstages:\n  - name: deploy\n    workflows:\n${['north', 'south', 'east', 'west'].map((name) => workflow(name)).join('')}`;

/** The encoding and size of a payload as the server stored it. */
const stored = (payload: temporal.api.common.v1.IPayload | null | undefined) => ({
  encoding: Buffer.from(payload?.metadata?.[METADATA_ENCODING_KEY] ?? []).toString(),
  bytes: payload?.data?.length ?? 0,
});

test('a plan and a result document over the blob limit as JSON travel compressed and come back whole', async () => {
  const { plan } = compilePipelineText(WIDE, 'wide.yaml', { pipelineId: 'size-check' });
  expect(jsonBytes({ plan })).toBeGreaterThan(768 * 1024);

  const doc = await runYamlPipeline(env, WIDE);
  expect(doc.status).toBe('succeeded');
  expect(jsonBytes(doc)).toBeGreaterThan(768 * 1024);
  for (const wf of doc.workflows) {
    expect(wf.steps).toHaveLength(SKIPPED_STEPS + 2);
    expect(wf.steps.filter((s) => s.status === 'skipped')).toHaveLength(SKIPPED_STEPS);
    expect(wf.steps.at(-1)).toMatchObject({ name: 'done', status: 'succeeded' });
  }
  expect(doc.barriers[0]).toMatchObject({ identifier: 'sync', status: 'crossed' });

  const history = await env.client.workflow.getHandle(doc.pipelineId).fetchHistory();
  const events = history.events ?? [];
  const input = stored(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
  const result = stored(
    events.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes
      ?.result?.payloads?.[0],
  );
  for (const payload of [input, result]) {
    expect(payload.encoding).toBe(COMPRESSED_ENCODING);
    expect(payload.bytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  }
  // Small payloads stay plain JSON, readable in the Web UI: a child's input (its own plan).
  const childStarted = events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  expect(
    stored(childStarted?.startChildWorkflowExecutionInitiatedEventAttributes?.input?.payloads?.[0]).encoding,
  ).toBe('json/plain');
});

test("one workflow that large: the child's input and result travel compressed too", async () => {
  const steps = 3500;
  const yaml = `name: long\nvariables: { never: "no" }\nstages:\n  - name: deploy\n    workflows:\n${workflow('only', steps)}`;
  const doc = await runYamlPipeline(env, yaml);
  expect(doc.status).toBe('succeeded');
  expect(doc.workflows[0]?.steps).toHaveLength(steps + 2);
  const childId = `${doc.pipelineId}/only`;
  const events = (await env.client.workflow.getHandle(childId).fetchHistory()).events ?? [];
  const input = stored(events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]);
  const result = stored(
    events.find((e) => e.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes
      ?.result?.payloads?.[0],
  );
  for (const payload of [input, result]) {
    expect(payload.encoding).toBe(COMPRESSED_ENCODING);
    expect(payload.bytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  }
});
