/** The sizing rule: from a memory limit to the cache and the workflow-task and step slots. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  MEASURED_COSTS,
  MEMORY_HEADROOM,
  SDK_DEFAULTS,
  SDK_MINIMUMS,
  STEP_SHARE,
  limitMbFor,
  minimumLimitBytes,
  sizeWorker,
  type MemoryCosts,
  type WorkerSizing,
} from '../../../src/worker/sizing';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** The memory the values plan for, recomputed here from the costs (not from the rule's own sum). */
const planned = (s: WorkerSizing, costs: MemoryCosts = MEASURED_COSTS) =>
  costs.baselineMb +
  s.maxCachedWorkflows * costs.perCachedWorkflowMb +
  s.maxConcurrentActivityTaskExecutions * costs.perStepMb;

const limits = fc.integer({ min: 0, max: 256 * GiB });
const costs = fc.record({
  baselineMb: fc.double({ min: 50, max: 1000, noNaN: true }),
  perCachedWorkflowMb: fc.double({ min: 0.5, max: 20, noNaN: true }),
  perStepMb: fc.double({ min: 1, max: 500, noNaN: true }),
});

test('2 GiB: the budget after the baseline goes a quarter to steps, the rest to the cache', () => {
  const sized = sizeWorker(2 * GiB);
  const usable = 2048 * MEMORY_HEADROOM - MEASURED_COSTS.baselineMb;
  expect(sized).toEqual({
    maxConcurrentActivityTaskExecutions: Math.floor((usable * STEP_SHARE) / MEASURED_COSTS.perStepMb),
    maxCachedWorkflows: Math.floor((usable * (1 - STEP_SHARE)) / MEASURED_COSTS.perCachedWorkflowMb),
    maxConcurrentWorkflowTaskExecutions: SDK_DEFAULTS.maxConcurrentWorkflowTaskExecutions,
    limitMb: 2048,
    budgetMb: 1638.4,
    plannedMb: expect.any(Number),
    fits: true,
  });
  expect(sized.plannedMb).toBeCloseTo(planned(sized), 0);
});

test('a large limit keeps the SDK default step slots and gives the rest to the cache', () => {
  const sized = sizeWorker(16 * GiB);
  expect(sized.maxConcurrentActivityTaskExecutions).toBe(SDK_DEFAULTS.maxConcurrentActivityTaskExecutions);
  const stepsMb = SDK_DEFAULTS.maxConcurrentActivityTaskExecutions * MEASURED_COSTS.perStepMb;
  expect(sized.maxCachedWorkflows).toBe(
    Math.floor(
      (16384 * MEMORY_HEADROOM - MEASURED_COSTS.baselineMb - stepsMb) / MEASURED_COSTS.perCachedWorkflowMb,
    ),
  );
});

test('below the minimum limit: the SDK minimums, reported as not fitting', () => {
  expect(sizeWorker(128 * MiB)).toMatchObject({
    maxCachedWorkflows: SDK_MINIMUMS.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: SDK_MINIMUMS.maxConcurrentWorkflowTaskExecutions,
    maxConcurrentActivityTaskExecutions: SDK_MINIMUMS.maxConcurrentActivityTaskExecutions,
    fits: false,
  });
  expect(sizeWorker(minimumLimitBytes()).fits).toBe(true);
  expect(sizeWorker(minimumLimitBytes() - 16 * MiB).fits).toBe(false);
});

test('explicit values are kept and the rest derive around them: explicit step slots take memory from the cache', () => {
  const derived = sizeWorker(2 * GiB);
  const steps = derived.maxConcurrentActivityTaskExecutions + 20;
  const sized = sizeWorker(2 * GiB, { maxConcurrentActivityTaskExecutions: steps });
  expect(sized.maxConcurrentActivityTaskExecutions).toBe(steps);
  expect(sized.maxCachedWorkflows).toBeLessThan(derived.maxCachedWorkflows);
  expect(sized.fits).toBe(true);
  expect(sizeWorker(2 * GiB, { maxCachedWorkflows: 5 })).toMatchObject({
    maxCachedWorkflows: 5,
    // Never more workflow task slots than cached workflows (the SDK would lower them itself).
    maxConcurrentWorkflowTaskExecutions: 5,
    maxConcurrentActivityTaskExecutions: derived.maxConcurrentActivityTaskExecutions,
  });
  // Explicit values that plan more than the budget are kept, and reported.
  expect(sizeWorker(GiB, { maxCachedWorkflows: 5000 })).toMatchObject({
    maxCachedWorkflows: 5000,
    fits: false,
  });
});

test('property: at or above the minimum limit, the values never plan more than the budget', () => {
  fc.assert(
    fc.property(costs, fc.double({ min: 0, max: 64, noNaN: true }), (c, extraGiB) => {
      const limit = minimumLimitBytes(c) + extraGiB * GiB;
      const sized = sizeWorker(limit, {}, c);
      expect(planned(sized, c)).toBeLessThanOrEqual((limit / MiB) * MEMORY_HEADROOM + 1e-6);
      expect(sized.fits).toBe(true);
    }),
  );
});

test('property: every value is at least the SDK minimum and at most the SDK default where it has one', () => {
  fc.assert(
    fc.property(costs, limits, (c, limit) => {
      const sized = sizeWorker(limit, {}, c);
      expect(sized.maxCachedWorkflows).toBeGreaterThanOrEqual(SDK_MINIMUMS.maxCachedWorkflows);
      expect(sized.maxConcurrentWorkflowTaskExecutions).toBeGreaterThanOrEqual(
        SDK_MINIMUMS.maxConcurrentWorkflowTaskExecutions,
      );
      expect(sized.maxConcurrentActivityTaskExecutions).toBeGreaterThanOrEqual(1);
      expect(sized.maxConcurrentWorkflowTaskExecutions).toBeLessThanOrEqual(
        Math.min(sized.maxCachedWorkflows, SDK_DEFAULTS.maxConcurrentWorkflowTaskExecutions),
      );
      expect(sized.maxConcurrentActivityTaskExecutions).toBeLessThanOrEqual(
        SDK_DEFAULTS.maxConcurrentActivityTaskExecutions,
      );
      for (const value of [
        sized.maxCachedWorkflows,
        sized.maxConcurrentWorkflowTaskExecutions,
        sized.maxConcurrentActivityTaskExecutions,
      ]) {
        expect(Number.isInteger(value)).toBe(true);
      }
    }),
  );
});

test('property: more memory never means a smaller cache or fewer slots', () => {
  // Nearby limits too: a step slot that appears must not take a few workflows out of the cache.
  const more = fc.oneof(fc.integer({ min: 0, max: 64 * MiB }), fc.integer({ min: 0, max: 256 * GiB }));
  fc.assert(
    fc.property(costs, limits, more, (c, limit, extra) => {
      const [small, large] = [sizeWorker(limit, {}, c), sizeWorker(limit + extra, {}, c)];
      expect(large.maxCachedWorkflows).toBeGreaterThanOrEqual(small.maxCachedWorkflows);
      expect(large.maxConcurrentWorkflowTaskExecutions).toBeGreaterThanOrEqual(
        small.maxConcurrentWorkflowTaskExecutions,
      );
      expect(large.maxConcurrentActivityTaskExecutions).toBeGreaterThanOrEqual(
        small.maxConcurrentActivityTaskExecutions,
      );
    }),
    { numRuns: 500 },
  );
});

test('limitMbFor is the smallest limit that caches that many workflows', () => {
  // The smallest limit that fits already caches more than a few.
  expect(limitMbFor(2)).toBe(Math.ceil(minimumLimitBytes() / MiB));
  for (const workflows of [100, 501, 2000]) {
    const mb = limitMbFor(workflows);
    expect(sizeWorker(mb * MiB).maxCachedWorkflows).toBeGreaterThanOrEqual(workflows);
    expect(sizeWorker((mb - 1) * MiB).maxCachedWorkflows).toBeLessThan(workflows);
  }
});

test("README's sizing table is what the rule says", () => {
  const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Run workers in Kubernetes'),
    readme.indexOf('## Shell steps'),
  );
  const rows = [...section.matchAll(/^\| ([\d,]+) +\| ([\d,]+) MiB +\| ([\d,]+) +\| ([\d,]+) +\|$/gm)];
  expect(rows.length).toBeGreaterThanOrEqual(4);
  for (const [, workflows, limit, cached, steps] of rows) {
    const n = (text: string | undefined) => Number(text!.replace(/,/g, ''));
    expect(n(limit)).toBe(limitMbFor(n(workflows)));
    const sized = sizeWorker(n(limit) * MiB);
    expect([n(cached), n(steps)]).toEqual([
      sized.maxCachedWorkflows,
      sized.maxConcurrentActivityTaskExecutions,
    ]);
  }
});
