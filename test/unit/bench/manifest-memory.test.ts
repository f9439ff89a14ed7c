/** The benchmark runs its scale worker as the manifests' pod: their limit, the worker's sizing rule. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WORKER_DEPLOYMENT,
  manifestWorkerMemoryMb,
  mebibytesOf,
  podTuning,
} from '../../../bench/manifest-memory';
import { podHeapPercent } from '../../../bench/worker-host';
import { sizeWorker, V8_HEAP_PERCENT } from '../../../src/worker/sizing';

test('reads the worker container limit of the shipped Deployment', () => {
  // The base Deployment sets 2560Mi (test/unit/worker/k8s.test.ts checks what that limit gives).
  expect(manifestWorkerMemoryMb()).toBe(2560);
});

test('Mi and Gi quantities; anything else names the file', () => {
  expect(mebibytesOf('2560Mi')).toBe(2560);
  expect(mebibytesOf('3Gi')).toBe(3072);
  expect(() => mebibytesOf('2.5G')).toThrow(`${WORKER_DEPLOYMENT}: unexpected memory quantity "2.5G"`);
});

test('a Deployment without a memory limit is an error, not a default', () => {
  const root = mkdtempSync(join(tmpdir(), 'convoy-manifest-'));
  mkdirSync(join(root, 'workers', 'k8s', 'base'), { recursive: true });
  writeFileSync(
    join(root, WORKER_DEPLOYMENT),
    'apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n',
  );
  expect(() => manifestWorkerMemoryMb(root)).toThrow('the worker container has no memory limit');
});

test("the pod's tuning is the sizing rule's answer for that limit", () => {
  const sized = sizeWorker(2560 * 2 ** 20);
  expect(podTuning('q', 2560)).toEqual({
    maxCachedWorkflows: sized.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: sized.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: sized.maxConcurrentWorkflowTaskExecutions,
  });
  // Far fewer than the 1,001 workflows of the 1,000 × 4 row: the worker evicts and replays.
  expect(podTuning('q', 2560).maxCachedWorkflows).toBeLessThan(1001);
});

test("the pod's V8 heap share: CONVOY_V8_HEAP_PERCENT as the entry point reads it, else the default", () => {
  expect(podHeapPercent({})).toBe(V8_HEAP_PERCENT);
  expect(podHeapPercent({ CONVOY_V8_HEAP_PERCENT: '65' })).toBe(65);
  expect(() => podHeapPercent({ CONVOY_V8_HEAP_PERCENT: '99' })).toThrow(
    'CONVOY_V8_HEAP_PERCENT=99: expected a percentage from 10 to 95',
  );
});
