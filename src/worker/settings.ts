/**
 * Convoy's own worker settings from the environment, validated: a bad value stops the worker
 * with one line naming the variable, before it connects to anything.
 */
import { z } from 'zod';
import { availableMemoryMb, cachedWorkflowsFor, type MemorySource } from './sizing';

const positiveInteger = (what: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]*$/, { error: `expected ${what} (a positive integer)` })
    .transform(Number);

const workerEnvSchema = z.object({
  CONVOY_WORKER_MEMORY_MB: positiveInteger('megabytes').optional(),
  CONVOY_MAX_CACHED_WORKFLOWS: positiveInteger('a number of workflows').optional(),
});

/** What `convoy worker` runs with, and why. */
export interface WorkerSettings {
  readonly maxCachedWorkflows: number;
  /** How `maxCachedWorkflows` was chosen, for the start-up log line. */
  readonly sizing: string;
}

/** Raised for a bad `CONVOY_*` worker variable; the message names it. */
export class WorkerSettingsError extends Error {
  override readonly name = 'WorkerSettingsError';
}

/**
 * Reads `CONVOY_MAX_CACHED_WORKFLOWS`, or derives it from `CONVOY_WORKER_MEMORY_MB`, the
 * container's memory limit or the host's memory.
 */
export function workerSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  memory: () => { mb: number; source: MemorySource } = () => availableMemoryMb(),
): WorkerSettings {
  const parsed = workerEnvSchema.safeParse({
    CONVOY_WORKER_MEMORY_MB: env.CONVOY_WORKER_MEMORY_MB || undefined,
    CONVOY_MAX_CACHED_WORKFLOWS: env.CONVOY_MAX_CACHED_WORKFLOWS || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new WorkerSettingsError(`${name}=${env[name]}: ${issue.message}`);
  }
  const { CONVOY_WORKER_MEMORY_MB: memoryMb, CONVOY_MAX_CACHED_WORKFLOWS: maxCached } = parsed.data;
  if (maxCached !== undefined) {
    return { maxCachedWorkflows: maxCached, sizing: 'CONVOY_MAX_CACHED_WORKFLOWS' };
  }
  const budget = memoryMb !== undefined ? { mb: memoryMb, source: 'CONVOY_WORKER_MEMORY_MB' } : memory();
  return {
    maxCachedWorkflows: cachedWorkflowsFor(budget.mb),
    sizing: `${budget.mb} MiB (${budget.source})`,
  };
}
