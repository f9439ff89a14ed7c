/**
 * Replays recorded histories of real pipeline runs (test/replay/histories/<label>/, recorded with
 * `CONVOY_RECORD_HISTORIES=<label> npm test`) and of `convoy doctor`'s timer probe (the same
 * variable on test/integration/doctor.test.ts) against the current workflow code. A change to the
 * workflows that would make running pipelines non-deterministic fails here.
 */
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionCodec } from '../../src/codec/compression-codec';
import { quietRuntime } from './harness';

const root = join(__dirname, '..', 'replay', 'histories');

/** Every recorded history with the workflow ID it ran under (from each folder's manifest.json). */
function recordedHistories(dir = root): { pipeline: string; workflowId: string; file: string }[] {
  const entries = readdirSync(dir).filter((d) => statSync(join(dir, d)).isDirectory());
  return entries.flatMap((d) => {
    const folder = join(dir, d);
    if (!existsSync(join(folder, 'manifest.json'))) return recordedHistories(folder);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;
    return Object.entries(manifest).map(([f, workflowId]) => ({
      pipeline: d,
      workflowId,
      file: join(folder, f),
    }));
  });
}

const histories = recordedHistories();
beforeAll(quietRuntime);

test('recorded histories exist for the scenarios that matter', () => {
  const pipelines = new Set(histories.map((h) => h.pipeline));
  for (const name of [
    'staggered',
    'timeout',
    'ordered',
    'two-stages',
    'retry',
    'step-timeout',
    'default-abort',
    // The capability protocol: forged signals refused, a decision sent to the child by update.
    'forged',
    'decided',
    // A plan, a child input and result documents over the plain limit, compressed in history.
    'long',
    // convoy doctor's timer probe (recorded by doctor.test.ts).
    'timer-probe',
    // Release trains (issue 14): pipelines joining a train, and the train workflow's runs.
    'search-release',
    'checkout-release',
    'train-of-two',
    'train-timeout',
    'train-broken',
    'train-released',
    // Child pipelines: a parent pipeline and its child pipeline sharing a barrier.
    'child-crossing',
    'child-breaks',
    'child-restart',
  ]) {
    expect(pipelines).toContain(name);
  }
});

test('every recorded history replays without non-determinism', async () => {
  const results = Worker.runReplayHistories(
    {
      workflowBundle: { codePath: process.env.CONVOY_TEST_WORKFLOW_BUNDLE! },
      // As every Convoy worker has it: large payloads are compressed in history.
      dataConverter: { payloadCodecs: [new CompressionCodec()] },
    },
    histories.map(({ workflowId, file }) => ({
      workflowId,
      history: historyFromJSON(JSON.parse(readFileSync(file, 'utf8'))),
    })),
  );
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of results) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(histories.length);
});
