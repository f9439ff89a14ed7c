/**
 * The workflow bundle. Bundling the workflow code with webpack takes seconds, so `npm run build`
 * writes it once to `dist/workflow-bundle.js` and workers load that file; from TypeScript
 * sources (tests, `ts-node`) the worker bundles on start instead.
 */
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package/root';
import { workflowBundleOptions } from './worker';

/** Where the build writes the bundle. */
export function workflowBundleFile(): string {
  return join(packageRoot(), 'dist', 'workflow-bundle.js');
}

/** The prebuilt bundle when running compiled code and it exists; otherwise undefined. */
export function prebuiltWorkflowBundle(): string | undefined {
  if (!__filename.endsWith('.js')) return undefined;
  const file = workflowBundleFile();
  return existsSync(file) ? file : undefined;
}

/** Bundles the workflows and writes the bundle to `file`. */
export async function writeWorkflowBundle(file = workflowBundleFile()): Promise<string> {
  const { workflowsPath, bundlerOptions } = workflowBundleOptions();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...bundlerOptions,
    // Webpack's progress is noise for a build step; its errors still show.
    logger: new DefaultLogger('ERROR'),
  });
  writeFileSync(file, code);
  return file;
}

if (require.main === module) {
  writeWorkflowBundle().then(
    (file) => process.stdout.write(`workflow bundle written to ${file}\n`),
    (error: unknown) => {
      process.stderr.write(`bundling the workflows failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
