/**
 * Preloaded once per reusable V8 context (see `SHARED_WORKFLOW_MODULES` in src/worker/worker.ts):
 * zod's module code then runs once per worker thread instead of once per workflow. zod is named
 * through this module because zod's package declares no side effects, so a bare preload of it
 * would be dropped by the bundler.
 */
import { z } from 'zod';

// zod completes its global configuration (default locale and memoizer) when the first schema is
// built; the shared context is frozen once preloaded, so that must happen here, not in a workflow.
z.object({ ready: z.string() });

export const sharedZod: typeof z = z;
