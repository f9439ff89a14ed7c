/**
 * Starts ONE real Temporal dev server (with its Web UI) for the whole jest run and bundles the
 * workflow code once; test files reach both through environment variables. Per-file servers
 * would cost a second each and the bundling several; one shared server keeps CI fast on 2 cores.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundleOptions } from '../../src/worker/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../../src/dev-server/dev-server';

declare global {
  // Read back by global-teardown.ts, which runs in the same process.
  var __CONVOY_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const server = await startDevServer({ resolve: { log: (line) => process.stdout.write(`\n${line}\n`) } });
  globalThis.__CONVOY_DEV_SERVER__ = server;
  process.env.CONVOY_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.CONVOY_TEST_TEMPORAL_UI = server.uiUrl;
  process.env.CONVOY_TEST_TEMPORAL_CLI = server.cli.path;
  process.stdout.write(
    `Temporal dev server for tests: ${server.address}, Web UI ${server.uiUrl} (${server.cli.version})\n`,
  );

  const { workflowsPath, bundlerOptions } = workflowBundleOptions();
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...bundlerOptions,
    logger: new DefaultLogger('ERROR'),
  });
  const dir = mkdtempSync(join(tmpdir(), 'convoy-test-bundle-'));
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.CONVOY_TEST_WORKFLOW_BUNDLE = bundlePath;
}
