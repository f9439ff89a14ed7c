/**
 * Shared helpers for integration tests: a client and a Convoy worker on the dev server that
 * global-setup.ts started, each test file on its own task queue so files can run in parallel.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { CompressionCodec } from '../../src/codec/compression-codec';
import { createConvoyWorker } from '../../src/worker/worker';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { compilePipeline } from '../../src/pipeline-file';
import { startPipeline, waitForPipeline } from '../../src/client/pipelines';
import { pipelineResultSchema, type PipelineResult } from '../../src/model/result';

let runtimeInstalled = false;
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    // Step failures are expected in these tests; the SDK would log each one as a warning.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // installed already in this jest worker
  }
}

/** The address of the run's dev server. */
export function testServerAddress(): string {
  const address = process.env.CONVOY_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('integration tests need the jest globalSetup (run them through `npm test`)');
  return address;
}

export interface TestEnv {
  /** The server this env talks to (the run's dev server unless connected elsewhere). */
  address: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  taskQueue: string;
  /** Starts a Convoy worker on this file's task queue; returns it running. */
  startWorker(): Promise<RunningWorker>;
  /** Stops every worker this env started (one process may run one worker per task queue). */
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

let queueCounter = 0;
/** Connects to the run's dev server (or `address`) with a task queue unique to the caller. */
export async function connectTestEnv(name: string, address = testServerAddress()): Promise<TestEnv> {
  quietRuntime();
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: { payloadCodecs: [new CompressionCodec()] },
  });
  const taskQueue = `test-${name}-${process.pid}-${++queueCounter}`;
  const workers = new Set<RunningWorker>();
  return {
    address,
    client,
    connection,
    nativeConnection,
    taskQueue,
    async startWorker() {
      const worker = await createConvoyWorker({
        connection: nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundlePath: process.env.CONVOY_TEST_WORKFLOW_BUNDLE,
      });
      const running = worker.run();
      const handle: RunningWorker = {
        worker,
        async stop() {
          workers.delete(handle);
          if (worker.getState() === 'RUNNING') worker.shutdown();
          await running;
        },
      };
      workers.add(handle);
      return handle;
    },
    async stopWorkers() {
      for (const w of [...workers]) await w.stop();
    },
    async close() {
      for (const w of [...workers]) await w.stop();
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** A Convoy worker in a process of its own: the production entry point, `dist/workers/worker.js`. */
export interface WorkerProcess {
  pid: number;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** Everything the process has written to stderr (its log) so far. */
  log(): string;
}

/**
 * Starts `node dist/workers/worker.js` (what the container image runs; built by `npm run build`)
 * on the env's task queue, and resolves once it polls. For tests that kill a worker for real.
 */
export async function startWorkerProcess(env: TestEnv): Promise<WorkerProcess> {
  const entry = join(__dirname, '..', '..', 'dist', 'workers', 'worker.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [entry], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: env.taskQueue,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('convoy worker polling')) resolve();
    });
    void exited.then(() => reject(new Error(`the worker process exited before polling:\n${output}`)));
  });
  return { pid: child.pid!, exited, log: () => output };
}

// ---------------------------------------------------------------------------------------------
// Running pipelines from YAML text, the way users write them.

const execFileAsync = promisify(execFile);
const yamlDir = mkdtempSync(join(tmpdir(), 'convoy-it-'));
let pipelineCounter = 0;

/** Writes YAML to a temp file, compiles it as `convoy run` would, and starts it on the env's queue. */
export async function startYamlPipeline(
  env: TestEnv,
  yaml: string,
  options: { vars?: Record<string, string>; id?: string } = {},
): Promise<{ pipelineId: string; handle: WorkflowHandle; result: () => Promise<PipelineResult> }> {
  const file = join(yamlDir, `pipeline-${process.pid}-${++pipelineCounter}.yaml`);
  writeFileSync(file, yaml);
  const pipelineId = options.id ?? `it-${env.taskQueue}-${pipelineCounter}-${Date.now()}`;
  const { plan } = compilePipeline(file, { vars: options.vars, pipelineId });
  const handle = await startPipeline(env.client, plan, env.taskQueue);
  return { pipelineId, handle, result: () => waitForPipeline(env.client, pipelineId) };
}

/** Starts a pipeline from YAML and waits for its result document. */
export async function runYamlPipeline(
  env: TestEnv,
  yaml: string,
  options: { vars?: Record<string, string>; id?: string } = {},
): Promise<PipelineResult> {
  const started = await startYamlPipeline(env, yaml, options);
  const doc = pipelineResultSchema.parse(await started.result());
  await recordHistories(env, doc);
  return doc;
}

/**
 * With CONVOY_RECORD_HISTORIES=<label>, saves the histories of a finished pipeline (parent and
 * every child) under test/replay/histories/<label>/<pipeline name>/, where replay.test.ts replays them against
 * the current workflow code: a change that would break running pipelines then fails CI.
 */
export async function recordHistories(_env: TestEnv, doc: PipelineResult): Promise<void> {
  const label = process.env.CONVOY_RECORD_HISTORIES;
  if (!label || !doc.name) return;
  await saveHistories(label, doc.name, workflowIdsOf(doc));
}

/**
 * With CONVOY_RECORD_HISTORIES=<label>, saves the history of every `convoyTimerProbe` run on
 * the server (the probe of `convoy doctor`) under test/replay/histories/<label>/timer-probe/.
 */
export async function recordTimerProbeHistories(env: TestEnv): Promise<void> {
  const label = process.env.CONVOY_RECORD_HISTORIES;
  if (!label) return;
  const ids: string[] = [];
  for await (const run of env.client.workflow.list({ query: "WorkflowType = 'convoyTimerProbe'" })) {
    ids.push(run.workflowId);
  }
  if (ids.length === 0) throw new Error('no convoyTimerProbe run to record');
  await saveHistories(label, 'timer-probe', ids, (index) => `probe-${index + 1}.json`);
}

/**
 * Saves workflows' histories and their IDs (replay must use the original workflow IDs: child
 * IDs are part of the parent's commands) in one folder per recording (the label), so histories
 * of older workflow code stay replayed.
 */
async function saveHistories(
  label: string,
  name: string,
  ids: readonly string[],
  fileName: (index: number) => string = (index) => (index === 0 ? 'pipeline.json' : `child-${index}.json`),
): Promise<void> {
  const dir = join(__dirname, '..', 'replay', 'histories', label, name);
  mkdirSync(dir, { recursive: true });
  const manifest: Record<string, string> = {};
  for (const [index, id] of ids.entries()) {
    // The CLI writes the canonical proto JSON that historyFromJSON reads back.
    const { stdout } = await execFileAsync(
      process.env.CONVOY_TEST_TEMPORAL_CLI!,
      ['workflow', 'show', '--workflow-id', id, '--output', 'json', '--address', testServerAddress()],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    const file = join(dir, fileName(index));
    writeFileSync(file, stdout);
    manifest[basename(file)] = id;
  }
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** A pipeline's workflow IDs: its own, its children's, and those of the child pipelines they ran. */
function workflowIdsOf(doc: PipelineResult): string[] {
  const started = doc.workflows.filter((w) => w.status !== 'not-started');
  return [
    doc.pipelineId,
    ...started.map((w) => `${doc.pipelineId}/${w.name}`),
    ...started.flatMap((w) => w.steps.flatMap((step) => (step.pipeline ? workflowIdsOf(step.pipeline) : []))),
  ];
}

/**
 * Writes pipeline files (name → YAML) into a fresh directory, so that they can name each other
 * by relative path, compiles `main` as `convoy run` would and starts it on the env's queue.
 */
export async function startYamlFiles(
  env: TestEnv,
  files: Record<string, string>,
  main: string,
  options: { vars?: Record<string, string>; id?: string } = {},
): Promise<{ pipelineId: string; handle: WorkflowHandle; result: () => Promise<PipelineResult> }> {
  const dir = writeYamlFiles(files);
  const pipelineId = options.id ?? `it-${env.taskQueue}-${++pipelineCounter}-${Date.now()}`;
  const { plan } = compilePipeline(join(dir, main), { vars: options.vars, pipelineId });
  const handle = await startPipeline(env.client, plan, env.taskQueue);
  return { pipelineId, handle, result: () => waitForPipeline(env.client, pipelineId) };
}

/** The directory {@link startYamlFiles} would write into, for tests that run `convoy` on files. */
export function writeYamlFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(yamlDir, 'files-'));
  for (const [name, yaml] of Object.entries(files)) writeFileSync(join(dir, name), yaml);
  return dir;
}

/** Polls (test code, not workflow code) until `predicate` holds or the timeout passes. */
export async function eventually<T>(
  fn: () => Promise<T>,
  predicate: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (predicate(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Finds a workflow's entry and a step in a result document, failing clearly when absent. */
export function stepOf(doc: PipelineResult, workflow: string, step: string) {
  const wf = doc.workflows.find((w) => w.name === workflow);
  if (!wf) throw new Error(`no workflow ${workflow} in ${JSON.stringify(doc.workflows.map((w) => w.name))}`);
  const found = wf.steps.filter((s) => s.name === step);
  if (found.length === 0) throw new Error(`no step ${step} in ${workflow}: ${JSON.stringify(wf.steps)}`);
  return found[found.length - 1]!;
}

export function workflowOf(doc: PipelineResult, workflow: string) {
  const wf = doc.workflows.find((w) => w.name === workflow);
  if (!wf) throw new Error(`no workflow ${workflow}`);
  return wf;
}

export function barrierOf(doc: PipelineResult, stage: string, identifier: string) {
  const b = doc.barriers.find((x) => x.stage === stage && x.identifier === identifier);
  if (!b) throw new Error(`no barrier ${stage}/${identifier} in ${JSON.stringify(doc.barriers)}`);
  return b;
}

// ---------------------------------------------------------------------------------------------
// The `convoy` command as users run it.

const repoRoot = resolve(__dirname, '..', '..');
/** `./bin/convoy` (it runs dist/: `npm run build` first). */
export const CONVOY_BIN = join(repoRoot, 'bin', 'convoy');

/** What a `convoy` process did. */
export interface ConvoyRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `convoy ARGS` from the repository root and collects its exit code and output. */
export function runConvoy(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 90_000,
): Promise<ConvoyRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(CONVOY_BIN, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`convoy ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/**
 * The workflow IDs a visibility query finds on the Temporal server at `address` (one that is
 * not the suite's, such as `convoy dev`'s or `--embedded`'s). A query naming a search attribute
 * the server does not have is rejected, so a match also proves the attribute is registered.
 */
export async function workflowIdsMatching(address: string, query: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const ids: string[] = [];
    for await (const info of new Client({ connection }).workflow.list({ query })) ids.push(info.workflowId);
    return ids.sort();
  } finally {
    await connection.close();
  }
}
