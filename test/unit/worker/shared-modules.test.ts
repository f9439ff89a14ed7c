import { workflowBundleOptions } from '../../../src/worker/worker';

/** As the SDK's reusable V8 context freezes what was preloaded before any workflow runs. */
function deepFreeze(value: unknown, seen = new WeakSet<object>()): void {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return;
  const object = value as object;
  if (seen.has(object) || Object.isFrozen(object)) return;
  seen.add(object);
  if (typeof value === 'object') {
    for (const key of Reflect.ownKeys(object)) {
      try {
        deepFreeze((object as Record<PropertyKey, unknown>)[key], seen);
      } catch {
        // Some objects (typed arrays) cannot be frozen; the SDK skips them too.
      }
    }
  }
  Object.freeze(object);
}

describe('modules shared between workflows', () => {
  it('are preloaded by every bundle of the workflows, and exist', () => {
    const { workflowsPath, bundlerOptions } = workflowBundleOptions();
    expect(workflowsPath).toMatch(/workflows/);
    expect(bundlerOptions.preloadModules.length).toBeGreaterThan(0);
    for (const path of bundlerOptions.preloadModules) expect(require.resolve(path)).toBe(path);
  });

  // A workflow builds its schemas after the shared zod was frozen: zod must have completed its
  // lazy global configuration (default locale, memoizer) while it was preloaded, or the first
  // workflow task fails with "object is not extensible".
  it('leave zod usable by workflows once frozen, as the SDK freezes them', () => {
    // zod keeps its configuration on globalThis; a workflow context starts without one.
    const global = globalThis as { __zod_globalConfig?: unknown };
    const configured = global.__zod_globalConfig;
    delete global.__zod_globalConfig;
    try {
      jest.isolateModules(() => {
        const { bundlerOptions } = workflowBundleOptions();
        const shared = bundlerOptions.preloadModules.map((path) => require(path) as unknown);
        deepFreeze(shared);
        deepFreeze(require('zod'));
        deepFreeze(global.__zod_globalConfig);
        const { barrierArrivalSchema } =
          require('../../../src/model/protocol') as typeof import('../../../src/model/protocol');
        const arrival = {
          workflow: 'api',
          identifier: 'deployed',
          timeoutMs: 1000,
          arrivedAt: 1,
          capability: 'c'.repeat(32),
        };
        expect(barrierArrivalSchema.safeParse(arrival).success).toBe(true);
        const refused = barrierArrivalSchema.safeParse({ ...arrival, timeoutMs: 0 });
        expect(refused.success).toBe(false);
        expect(refused.error?.issues[0]?.message).toMatch(/>=\s*1|at least|too small/i);
      });
    } finally {
      global.__zod_globalConfig = configured;
    }
  });
});
