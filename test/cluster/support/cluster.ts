/**
 * A full Temporal service on this machine: PostgreSQL and N server nodes (two by default), each
 * running all four services (frontend, history, matching, worker) on ports of its own, joined in
 * one membership ring on 127.0.0.1 through the shared database.
 *
 * Every node runs the server's embedded config template, driven by the variables in
 * config/temporal/server.env (shared with docker-compose.temporal.yml) and the node's own ports,
 * with Convoy's dynamic config file, config/temporal/dynamic-config.yaml.
 */
import { ConvoySearchAttributes } from '../../../src/model/visibility';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isPortFree } from '../../../src/dev-server/dev-server';
import { dynamicConfigFile } from '../../../src/dev-server/dynamic-config';
import { packageRoot } from '../../../src/package/root';
import { startPostgres, type Postgres, type PostgresConnection } from './postgres';
import { provisionTemporalServer, tail, type TemporalServerBinaries } from './temporal-server';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** Convoy's custom search attributes, registered on the `default` namespace of every cluster we set up. */
/** Convoy's search attributes by name, typed as the `temporal` CLI spells them (one definition: src/model/visibility.ts). */
export const CONVOY_SEARCH_ATTRIBUTES: Readonly<Record<string, 'Keyword' | 'KeywordList'>> =
  Object.fromEntries(Object.values(ConvoySearchAttributes).map((a) => [a.name, a.cliType]));

export const CLUSTER_NAMESPACE = 'default';

/** Raised when the cluster cannot be set up or does not come up; the message carries the logs' tail. */
export class LocalClusterError extends Error {
  override readonly name = 'LocalClusterError';
}

/** config/temporal/server.env: the server settings compose and the local cluster share. */
export function serverEnvFile(): string {
  return join(packageRoot(), 'config', 'temporal', 'server.env');
}

const serverEnvSchema = z.strictObject({
  DB: z.literal('postgres12'),
  DBNAME: z.string().min(1),
  VISIBILITY_DBNAME: z.string().min(1),
  NUM_HISTORY_SHARDS: z.string().regex(/^[1-9][0-9]*$/),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']),
});
export type ServerEnv = z.infer<typeof serverEnvSchema>;

/** Reads `KEY=value` lines (comments and blank lines allowed), as docker-compose's `env_file` does. */
export function readServerEnv(file = serverEnvFile()): ServerEnv {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const at = line.indexOf('=');
      if (at <= 0) throw new LocalClusterError(`${file}: expected KEY=value, got "${line}"`);
      return [line.slice(0, at), line.slice(at + 1)] as const;
    });
  const parsed = serverEnvSchema.safeParse(Object.fromEntries(entries));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new LocalClusterError(`${file}: ${issue.path.join('.') || '(file)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Creates the two databases on first use and brings both schemas to this server's version. */
export async function setupSchemas(
  binaries: TemporalServerBinaries,
  postgres: PostgresConnection,
  serverEnv: ServerEnv,
  log: (line: string) => void,
): Promise<void> {
  const env = { PATH: process.env.PATH ?? '', SQL_PASSWORD: postgres.password };
  const base = [
    '--plugin',
    serverEnv.DB,
    '--ep',
    postgres.host,
    '-p',
    String(postgres.port),
    '-u',
    postgres.user,
  ];
  const sql = (args: string[]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(binaries.sqlTool, [...base, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.once('error', reject);
      child.once('close', (code) =>
        code === 0
          ? resolve()
          : reject(
              new LocalClusterError(`temporal-sql-tool ${args.join(' ')} failed (${code}):\n${tail(output)}`),
            ),
      );
    });
  for (const [database, schemaDir] of [
    [serverEnv.DBNAME, binaries.schemaDir],
    [serverEnv.VISIBILITY_DBNAME, binaries.visibilitySchemaDir],
  ] as const) {
    const exists = await postgres.query(`select 1 from pg_database where datname = '${database}'`);
    if (exists !== '1') {
      log(`schema: creating database ${database}`);
      await sql(['--db', database, 'create-database']);
      await sql(['--db', database, 'setup-schema', '-v', '0.0']);
    }
    await sql(['--db', database, 'update-schema', '-d', schemaDir]);
  }
  log(
    `schema: ${serverEnv.DBNAME} and ${serverEnv.VISIBILITY_DBNAME} at the schema of server ${binaries.version}`,
  );
}

/** The ports one node listens on (all on 127.0.0.1). */
export interface NodePorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * Nine free ports on 127.0.0.1 for one node, below 32768: the membership table stores a port as
 * a SMALLINT, so the kernel's ephemeral ports (32768 and up) make a node fail its first heartbeat.
 * `taken` holds ports already given to other nodes: all nodes' ports are chosen before any node
 * binds them, and a CI run lost node 2 because its worker port was node 1's history port.
 */
export async function freeNodePorts(taken: ReadonlySet<number> = new Set()): Promise<NodePorts> {
  const ports: number[] = [];
  while (ports.length < 9) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.includes(port) && !taken.has(port) && (await isPortFree(port))) ports.push(port);
  }
  const [
    frontend,
    frontendHttp,
    frontendMembership,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
  ] = ports as [number, number, number, number, number, number, number, number, number];
  return {
    frontend,
    frontendHttp,
    frontendMembership,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
  };
}

/** One line of a node's JSON log. */
export interface NodeLogLine {
  level: string;
  ts: string;
  msg: string;
  [tag: string]: unknown;
}

/** Every node process this process started, killed if it exits without stopping them. */
const runningNodes = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of runningNodes) child.kill('SIGKILL');
});

/** One Temporal server process with all four services. Restartable on the same ports. */
export class ServerNode {
  private child: ChildProcess | undefined;
  private exit: Promise<void> = Promise.resolve();
  private exitReason: string | undefined;
  private stopping = false;

  constructor(
    /** 1-based, as in the log file's name. */
    readonly index: number,
    readonly ports: NodePorts,
    private readonly binaries: TemporalServerBinaries,
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  /** The node's frontend, for clients and workers. */
  get address(): string {
    return `127.0.0.1:${this.ports.frontend}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.exitReason === undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Why the process ended, when it ended without being told to. */
  get crashed(): string | undefined {
    return this.stopping ? undefined : this.exitReason;
  }

  start(): void {
    if (this.running) throw new LocalClusterError(`node ${this.index} is already running`);
    const out = openSync(this.logFile, 'a');
    const child = spawn(this.binaries.server, ['--allow-no-auth', 'start'], {
      env: this.env,
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    this.child = child;
    this.exitReason = undefined;
    this.stopping = false;
    runningNodes.add(child);
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        runningNodes.delete(child);
        this.exitReason = `exited with ${signal ?? `code ${code}`}`;
        resolve();
      });
      child.once('error', (error) => {
        runningNodes.delete(child);
        this.exitReason = `failed to start: ${error.message}`;
        resolve();
      });
    });
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.child!.kill(signal);
    await this.exit;
  }

  /** Graceful stop (SIGTERM), then SIGKILL if the node is still there after `graceMs`. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.running) return;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }

  /** The node's log so far, parsed (lines that are not JSON are skipped). */
  logLines(): NodeLogLine[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as NodeLogLine];
        } catch {
          return [];
        }
      });
  }

  logTail(lines = 25): string {
    return existsSync(this.logFile) ? tail(readFileSync(this.logFile, 'utf8'), lines) : '(no log)';
  }
}

export interface LocalClusterOptions {
  /** Holds PostgreSQL's data, the nodes' logs; reused when it holds a cluster already. */
  stateDir: string;
  /** Number of server nodes; default 2. */
  nodes?: number;
  /** An already provisioned server; provisioned (built if needed) when absent. */
  binaries?: TemporalServerBinaries;
  /**
   * A PostgreSQL instance with the schemas set up that someone else owns (the jest global setup);
   * when absent, one is started in `stateDir` (and stopped by `stop()`), its schemas set up.
   */
  postgres?: PostgresConnection;
  log?: (line: string) => void;
}

/** A running local cluster. */
export interface LocalCluster {
  postgres: PostgresConnection;
  nodes: ServerNode[];
  /** Every node's frontend address. */
  addresses: string[];
  binaries: TemporalServerBinaries;
  /** Starts every node that is not running and waits until the cluster serves through each frontend. */
  startNodes(): Promise<void>;
  /** Waits until every running node serves the namespace and sees the others in its membership ring. */
  waitUntilServing(timeoutMs?: number): Promise<void>;
  /** Stops every node, and PostgreSQL when the cluster started it. */
  stop(): Promise<void>;
}

/**
 * The environment of one node: the shared settings, PostgreSQL, its ports and Convoy's dynamic
 * config. The server's embedded config template reads it, as in the temporalio/server image.
 */
export function nodeEnvironment(
  serverEnv: ServerEnv,
  postgres: Pick<PostgresConnection, 'host' | 'port' | 'user' | 'password'>,
  ports: NodePorts,
): NodeJS.ProcessEnv {
  return {
    // Only what the server needs: a variable of the caller's (a stray DB or LOG_LEVEL) must not leak in.
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    ...serverEnv,
    POSTGRES_SEEDS: postgres.host,
    DB_PORT: String(postgres.port),
    POSTGRES_USER: postgres.user,
    POSTGRES_PWD: postgres.password,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    HISTORY_GRPC_PORT: String(ports.history),
    HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    MATCHING_GRPC_PORT: String(ports.matching),
    MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    WORKER_GRPC_PORT: String(ports.worker),
    WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile(),
  };
}

const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;

/**
 * True when the node's latest ring view of each of the four services (its log's "Current
 * reachable members") holds exactly the running nodes.
 */
function seesRing(node: ServerNode, runningNodes: ServerNode[]): boolean {
  const latest = new Map<string, string>();
  for (const line of node.logLines()) {
    if (line.msg !== 'Current reachable members' || !Array.isArray(line.addresses)) continue;
    // An address may carry labels: 127.0.0.1:7234[draining=true].
    const addresses = (line.addresses as string[]).map((a) => a.replace(/\[.*$/, '')).sort();
    latest.set(String(line.service), addresses.join(' '));
  }
  return SERVICES.every((service) => {
    const expected = (port: (n: ServerNode) => number) =>
      runningNodes
        .map((n) => `127.0.0.1:${port(n)}`)
        .sort()
        .join(' ');
    const seen = latest.get(service);
    return (
      seen === expected((n) => n.ports[service]) || seen === expected((n) => n.ports[`${service}Membership`])
    );
  });
}

/** Registers the namespace (when missing) and Convoy's search attributes (when missing). */
export async function registerNamespace(connection: Connection, log: (line: string) => void): Promise<void> {
  try {
    await connection.workflowService.registerNamespace({
      namespace: CLUSTER_NAMESPACE,
      workflowExecutionRetentionPeriod: msToTs('3 days'),
    });
    log(`namespace ${CLUSTER_NAMESPACE}: registered`);
  } catch (error) {
    if ((error as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw error;
  }
  const { customAttributes } = await connection.operatorService.listSearchAttributes({
    namespace: CLUSTER_NAMESPACE,
  });
  const missing = Object.entries(CONVOY_SEARCH_ATTRIBUTES).filter(([name]) => !customAttributes?.[name]);
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace: CLUSTER_NAMESPACE,
    searchAttributes: Object.fromEntries(
      missing.map(([name, type]) => [
        name,
        type === 'Keyword'
          ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
          : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      ]),
    ),
  });
  log(`search attributes: added ${missing.map(([name, type]) => `${name} (${type})`).join(', ')}`);
}

/** True when `address` answers and knows the namespace and every Convoy search attribute. */
/** True when the frontend at `address` answers a request that needs no namespace. */
async function answers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '2s' });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function serves(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '2s' });
    await connection.workflowService.describeNamespace({ namespace: CLUSTER_NAMESPACE });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: CLUSTER_NAMESPACE,
    });
    return Object.keys(CONVOY_SEARCH_ATTRIBUTES).every((name) => customAttributes?.[name] !== undefined);
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Sets up (on first use) and starts PostgreSQL, the schemas and the server nodes, registers the
 * namespace and Convoy's search attributes, and resolves once every node serves them and sees
 * all nodes in its ring.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const binaries = options.binaries ?? (await provisionTemporalServer({ log }));
  const serverEnv = readServerEnv();
  mkdirSync(options.stateDir, { recursive: true });
  let owned: Postgres | undefined;
  if (!options.postgres) {
    owned = await startPostgres({ stateDir: join(options.stateDir, 'postgres'), log });
    try {
      await setupSchemas(binaries, owned, serverEnv, log);
    } catch (error) {
      await owned.stop();
      throw error;
    }
  }
  const postgres = options.postgres ?? owned!;
  const nodes: ServerNode[] = [];
  const taken = new Set<number>();
  for (let index = 1; index <= (options.nodes ?? 2); index++) {
    const ports = await freeNodePorts(taken);
    for (const port of Object.values(ports)) taken.add(port);
    nodes.push(
      new ServerNode(
        index,
        ports,
        binaries,
        nodeEnvironment(serverEnv, postgres, ports),
        join(options.stateDir, `node-${index}.log`),
      ),
    );
  }

  const waitUntilServing = async (timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    let registered = false;
    for (;;) {
      const crashed = nodes.find((n) => n.crashed);
      if (crashed)
        throw new LocalClusterError(
          `server node ${crashed.index} ${crashed.crashed} (${crashed.logFile}):\n${crashed.logTail()}`,
        );
      const up = nodes.filter((n) => n.running);
      if (up.length === 0) throw new LocalClusterError('no server node is running');
      if (!registered) {
        const connection = await Connection.connect({ address: up[0]!.address, connectTimeout: '2s' }).catch(
          () => undefined,
        );
        if (connection) {
          registered = await registerNamespace(connection, log).then(
            () => true,
            () => false,
          );
          await connection.close().catch(() => undefined);
        }
      }
      if (registered) {
        const serving = await Promise.all(up.map(async (n) => (await serves(n.address)) && seesRing(n, up)));
        if (serving.every(Boolean)) return;
      }
      if (Date.now() > deadline) {
        throw new LocalClusterError(
          `the cluster did not serve within ${timeoutMs / 1000} s through ${up.map((n) => n.address).join(' and ')}:\n` +
            up.map((n) => `node ${n.index} (${n.logFile}):\n${n.logTail(10)}`).join('\n'),
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  /** Waits until `node`'s frontend answers, which it does once its cluster metadata is written. */
  const waitUntilAnswering = async (node: ServerNode, timeoutMs = 120_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await answers(node.address))) {
      if (node.crashed)
        throw new LocalClusterError(
          `server node ${node.index} ${node.crashed} (${node.logFile}):\n${node.logTail()}`,
        );
      if (Date.now() > deadline)
        throw new LocalClusterError(
          `server node ${node.index} did not answer within ${timeoutMs / 1000} s (${node.logFile}):\n${node.logTail(10)}`,
        );
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const cluster: LocalCluster = {
    postgres,
    nodes,
    addresses: nodes.map((n) => n.address),
    binaries,
    async startNodes() {
      // One node first: on a fresh database every node writes the cluster's metadata record at
      // start-up, and a node that loses that race exits ("SaveClusterMetadata encountered
      // version mismatch"), as one did in a loaded test run.
      const [first, ...rest] = nodes.filter((n) => !n.running);
      if (first) {
        first.start();
        await waitUntilAnswering(first);
      }
      for (const node of rest) node.start();
      await waitUntilServing();
      log(`Temporal cluster: ${nodes.length} nodes serving at ${nodes.map((n) => n.address).join(', ')}`);
    },
    waitUntilServing,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await owned?.stop();
    },
  };
  try {
    await cluster.startNodes();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
