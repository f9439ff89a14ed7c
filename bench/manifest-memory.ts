/**
 * The memory the Kubernetes manifests give a worker pod, so that the benchmark can run its worker
 * as that pod would (bench/worker-host.ts): the same limit, the same sizing rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { WorkerOptions } from '@temporalio/worker';
import { packageRoot } from '../src/package/root';
import { workerSettingsFromEnv, WorkerVariables } from '../src/worker/settings';

/** The worker's Deployment, where the container's memory limit is set. */
export const WORKER_DEPLOYMENT = join('workers', 'k8s', 'base', 'deployment.yaml');

/** `2560Mi` or `3Gi` → MiB; anything else is an error naming the quantity. */
export function mebibytesOf(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`${WORKER_DEPLOYMENT}: unexpected memory quantity ${JSON.stringify(quantity)}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** The worker container's memory limit in the base Deployment, in MiB. */
export function manifestWorkerMemoryMb(root: string = packageRoot()): number {
  const text = readFileSync(join(root, WORKER_DEPLOYMENT), 'utf8');
  for (const doc of parseAllDocuments(text)) {
    const manifest = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { resources?: { limits?: { memory?: string } } }[] } } };
    };
    if (manifest.kind !== 'Deployment') continue;
    const memory = manifest.spec?.template?.spec?.containers?.[0]?.resources?.limits?.memory;
    if (memory === undefined)
      throw new Error(`${WORKER_DEPLOYMENT}: the worker container has no memory limit`);
    return mebibytesOf(memory);
  }
  throw new Error(`${WORKER_DEPLOYMENT}: no Deployment`);
}

/**
 * The cache and slots of Convoy's worker in a pod limited to `memoryMb`: what `convoy worker`
 * derives from that limit (read from the cgroup or from `CONVOY_WORKER_MEMORY_MB`, the same rule).
 */
export function podTuning(
  taskQueue: string,
  memoryMb: number,
): Pick<
  WorkerOptions,
  'maxCachedWorkflows' | 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions'
> {
  const settings = workerSettingsFromEnv({
    [WorkerVariables.taskQueue]: taskQueue,
    [WorkerVariables.memoryMb]: String(memoryMb),
  });
  return {
    maxCachedWorkflows: settings.maxCachedWorkflows,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: settings.maxConcurrentWorkflowTasks,
  };
}
