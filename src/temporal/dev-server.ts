/**
 * Starts a real Temporal dev server (`temporal server start-dev`, Web UI included) from the
 * binary {@link resolveTemporalCli} finds, for tests, `--embedded` and `convoy dev`.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { createServer } from 'node:net';
import { resolveTemporalCli, type ResolvedTemporalCli, type ResolveTemporalCliOptions } from './cli-binary';

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** gRPC port; a free port when absent. */
  port?: number;
  /** Web UI port; a free port when absent. */
  uiPort?: number;
  /** SQLite file to keep state across restarts; in memory when absent. */
  dbFile?: string;
  namespace?: string;
  /** Passed to {@link resolveTemporalCli}. */
  resolve?: ResolveTemporalCliOptions;
}

/** A running dev server; call `stop()` to end it. */
export interface DevServer {
  /** `127.0.0.1:<port>` for clients and workers. */
  address: string;
  namespace: string;
  uiUrl: string;
  cli: ResolvedTemporalCli;
  /** The SDK environment owning the server process (its connections are open). */
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/** Asks the kernel for a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts a dev server on 127.0.0.1 with its Web UI, and waits until it accepts connections. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const cli = await resolveTemporalCli(options.resolve);
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli.path },
      ip: '127.0.0.1',
      port,
      ui: true,
      uiPort,
      namespace,
      dbFilename: options.dbFile,
      log: { format: 'pretty', level: 'error' },
    },
  });
  let stopped = false;
  return {
    address: `127.0.0.1:${port}`,
    namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    cli,
    env,
    async stop() {
      if (stopped) return;
      stopped = true;
      await env.teardown();
    },
  };
}
