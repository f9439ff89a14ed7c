/**
 * Starts a real Temporal dev server (`temporal server start-dev`, Web UI included) from the
 * binary {@link resolveTemporalCli} finds, for tests, `--embedded` and `convoy dev`.
 *
 * The process is spawned directly rather than through the SDK's ephemeral-server helper so that
 * its banner and logs never reach our stdout (`convoy run --json` prints exactly one document
 * there) and so that a failed start can show what the server said.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { CompressionCodec } from '../codec/compression-codec';
import { ConvoySearchAttributes } from '../model/visibility';
import { signalGroup, terminateProcessGroup } from '../activities/process-group';
import { spawnSupervised } from '../activities/supervisor';
import { dynamicConfigArgs, readDynamicConfig, type DynamicConfig } from './dynamic-config';
import { resolveTemporalCli, type ResolvedTemporalCli, type ResolveTemporalCliOptions } from './temporal-cli';

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** gRPC port; a free port when absent. */
  port?: number;
  /** Web UI port; a free port when absent. */
  uiPort?: number;
  /** Port of the server's Prometheus `/metrics` endpoint; a random one nobody is told of when absent. */
  metricsPort?: number;
  /** SQLite file to keep state across restarts; in memory when absent. */
  dbFile?: string;
  namespace?: string;
  /** How long to wait for the server to accept connections (default 60 s). */
  startTimeoutMs?: number;
  /** Passed to {@link resolveTemporalCli}. */
  resolve?: ResolveTemporalCliOptions;
  /**
   * Dynamic config values over the ones Convoy ships (config/temporal/dynamic-config.yaml);
   * a key set to `null` falls back to the server's own default.
   */
  dynamicConfig?: Readonly<Record<string, string | number | boolean | null>>;
  /** Register Convoy's search attributes (default true); false gives a bare namespace, as on a new cluster. */
  searchAttributes?: boolean;
}

/** Connections to a running dev server. */
export interface DevServerConnections {
  connection: Connection;
  nativeConnection: NativeConnection;
  client: Client;
}

/** A running dev server; call `stop()` to end it. */
export interface DevServer {
  /** `127.0.0.1:<port>` for clients and workers. */
  address: string;
  namespace: string;
  uiUrl: string;
  /** `http://127.0.0.1:<metricsPort>/metrics`, when started with a `metricsPort`. */
  metricsUrl?: string;
  cli: ResolvedTemporalCli;
  /** The dynamic config values the server was started with (all else is the server's default). */
  dynamicConfig: DynamicConfig;
  /** Open connections (closed by `stop()`). */
  env: DevServerConnections;
  /** The server process. */
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Raised when the dev server does not come up; the message carries the tail of its output. */
export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
}

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 and keeps the kernel from handing it out again.
 *
 * Linux may give a port that was just closed to the next `bind(:0)`, and the dev server picks its
 * own HTTP and internal ports that way between our choice and its bind: a CI run lost a server whose
 * HTTP API drew the gRPC port chosen here. As the `temporal` CLI does for its own ports, we connect
 * to the port and close from the listening side, which leaves that side in TIME_WAIT (60 s on
 * Linux): no `bind(:0)` gets the port meanwhile, while an explicit bind still may (SO_REUSEADDR).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer((accepted) => accepted.destroy());
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const client = connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      client.on('close', () => server.close(() => resolvePort(port)));
    });
  });
}

/** True when nothing listens on 127.0.0.1:`port` (we could bind it). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

/**
 * `temporal server start-dev` flags that register Convoy's search attributes, so that the Web UI
 * finds pipelines by status and waiting barrier (README, "The Temporal Web UI").
 */
export function searchAttributeArgs(): string[] {
  return Object.values(ConvoySearchAttributes).flatMap(({ name, cliType }) => [
    '--search-attribute',
    `${name}=${cliType}`,
  ]);
}

/**
 * Every dev server this process started (a process group each), killed on exit even if nobody
 * called stop(). A death that runs no exit hook (SIGKILL) is the watchdog's to handle.
 */
const started = new Set<number>();
let exitHookInstalled = false;
function killOnExit(child: ChildProcess): void {
  const pgid = child.pid;
  if (pgid === undefined) return;
  started.add(pgid);
  child.once('exit', () => started.delete(pgid));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const group of started) signalGroup(group, 'SIGKILL');
  });
}

/**
 * How long the server gets to exit on SIGTERM before its group is sent SIGKILL: it takes 1.5 to
 * 3 s to shut down gracefully, which matters only for a database file; an in-memory server's
 * state dies with it anyway, and `run --embedded` must be gone within 5 s of Ctrl-C.
 */
const STOP_GRACE_MS = { dbFile: 3000, inMemory: 100 } as const;

/** One shell word: the supervisor runs the server through `/bin/sh -c`. */
function shellWord(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Spawns the server in a process group of its own, under the step supervisor's watchdog
 * (../activities/supervisor): a terminal's Ctrl-C reaches only us, so we decide the order of
 * shutdown (cancel the pipeline, stop the worker, then the server), and when we die without
 * stopping it, however we die, the watchdog ends the server's group.
 */
function spawnServer(path: string, args: readonly string[], graceMs: number): ChildProcess {
  const { child, link } = spawnSupervised(`exec ${[path, ...args].map(shellWord).join(' ')}`, {
    env: process.env,
    killGraceMs: graceMs,
  });
  // The link must stay open while we live, without keeping a finished command alive.
  link.unref();
  return child;
}

/** Starts a dev server on 127.0.0.1 with its Web UI, and waits until it accepts connections. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  // A taken port would let the server fail to bind while a client happily connects to whatever
  // else listens there: refuse before starting anything.
  for (const [flag, value] of [
    ['port', options.port],
    ['Web UI port', options.uiPort],
  ] as const) {
    if (value !== undefined && !(await isPortFree(value))) {
      throw new DevServerStartError(`${flag} ${value} on 127.0.0.1 is already in use; choose another`);
    }
  }
  const cli = await resolveTemporalCli(options.resolve);
  const namespace = options.namespace ?? 'default';
  const dynamicConfig = withOverrides(readDynamicConfig(), options.dynamicConfig ?? {});
  const graceMs = options.dbFile ? STOP_GRACE_MS.dbFile : STOP_GRACE_MS.inMemory;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);

  let launched: Launched | undefined;
  for (let attempt = 1; !launched; attempt++) {
    const port = options.port ?? (await freePort());
    const uiPort = options.uiPort ?? (await freePort());
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--log-level',
      'error',
    ];
    if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
    args.push(...dynamicConfigArgs(dynamicConfig));
    if (options.searchAttributes !== false) args.push(...searchAttributeArgs());
    if (namespace !== 'default') args.push('--namespace', namespace);
    if (options.dbFile) args.push('--db-filename', options.dbFile);
    try {
      launched = await launch({ cli, args, port, uiPort, namespace, graceMs, deadline });
    } catch (error) {
      // Another process may take a port between anyone's choice and the server's bind (the server
      // also picks internal ports of its own): a start that lost that race is worth a new draw.
      const lostRace = error instanceof DevServerStartError && PORT_TAKEN.test(error.message);
      if (!lostRace || attempt >= START_ATTEMPTS) throw error;
    }
  }
  const { child, connection, address, uiPort, hasExited } = launched;
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({
    connection,
    namespace,
    dataConverter: { payloadCodecs: [new CompressionCodec()] },
  });

  let stopped = false;
  return {
    address,
    namespace,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    metricsUrl:
      options.metricsPort === undefined ? undefined : `http://127.0.0.1:${options.metricsPort}/metrics`,
    cli,
    dynamicConfig,
    env: { connection, nativeConnection, client },
    process: child,
    async stop() {
      if (stopped) return;
      stopped = true;
      await connection.close().catch(() => undefined);
      await nativeConnection.close().catch(() => undefined);
      if (hasExited() || child.pid === undefined) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      await terminateProcessGroup(child.pid, graceMs);
      await gone;
    },
  };
}

/** How often {@link startDevServer} draws new ports after losing one to another process. */
const START_ATTEMPTS = 3;
const PORT_TAKEN = /address already in use/i;

interface Launched {
  child: ChildProcess;
  connection: Connection;
  address: string;
  uiPort: number;
  hasExited(): boolean;
}

/** Spawns one server and waits until it serves the namespace; kills it and throws if it does not. */
async function launch(spec: {
  cli: ResolvedTemporalCli;
  args: string[];
  port: number;
  uiPort: number;
  namespace: string;
  graceMs: number;
  deadline: number;
}): Promise<Launched> {
  const { cli, args, namespace, deadline } = spec;
  const address = `127.0.0.1:${spec.port}`;
  const child = spawnServer(cli.path, args, spec.graceMs);
  killOnExit(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8192);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.once('error', (error) => {
    exited = `failed to start: ${error.message}`;
  });

  const fail = (why: string): never => {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    throw new DevServerStartError(
      `Temporal dev server (${cli.path} ${args.join(' ')}) ${why}.\n${output.trim()}`,
    );
  };

  let connection: Connection | undefined;
  while (!connection) {
    if (exited) fail(exited);
    if (Date.now() > deadline) fail('did not accept connections in time');
    try {
      const candidate = await Connection.connect({ address, connectTimeout: '1s' });
      // Connected is not ready: the namespace must exist before workers poll it.
      await candidate.workflowService.describeNamespace({ namespace });
      connection = candidate;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, connection, address, uiPort: spec.uiPort, hasExited: () => exited !== undefined };
}

function withOverrides(
  shipped: DynamicConfig,
  overrides: Readonly<Record<string, string | number | boolean | null>>,
): DynamicConfig {
  const merged: Record<string, string | number | boolean> = { ...shipped };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
