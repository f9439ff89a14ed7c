/**
 * Builds the Convoy worker: the pipeline and deployment workflows plus the step activities, on
 * one task queue. Used by `convoy worker`, `--embedded`, `convoy dev`, tests and benchmarks.
 */
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { CompressionCodec } from '../codec/compression-codec';
import { RefuseUndecodableCodec } from '../codec/undecodable';

/** Options of {@link createConvoyWorker}. */
export interface ConvoyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** A pre-built workflow bundle (tests build one per run); otherwise bundled from source at start. */
  workflowBundlePath?: string;
  /** Extra worker options (identity, concurrency, ...). */
  tuning?: Partial<WorkerOptions>;
}

/**
 * Modules that every workflow of a worker shares instead of loading its own copy: zod, through
 * src/workflows/shared-modules.ts. The SDK's reusable V8 context evaluates a workflow's modules
 * afresh for each workflow it starts; zod's module code was several milliseconds of worker CPU
 * and about 1 MiB per workflow. The SDK deep-freezes what it preloads, so only modules that never
 * write to their own objects after loading can be shared: not the model's schemas (zod writes into
 * a schema on its first parse), and not zod until its lazy global configuration is complete,
 * which the preloaded module sees to. A module added here must meet the same condition
 * (test/unit/worker/shared-modules.test.ts freezes them as the SDK does).
 */
const SHARED_WORKFLOW_MODULES = ['../workflows/shared-modules'] as const;

/**
 * How Convoy's workflows are bundled: the entry point and the modules preloaded once per reusable
 * V8 context (see {@link SHARED_WORKFLOW_MODULES}). Every bundle of them (the worker's, the build's
 * and the tests') is made with these options.
 */
export function workflowBundleOptions(): {
  workflowsPath: string;
  bundlerOptions: { preloadModules: string[] };
} {
  return {
    // The entry point, whether running from TypeScript sources or compiled `dist/`.
    workflowsPath: require.resolve('../workflows'),
    bundlerOptions: {
      preloadModules: SHARED_WORKFLOW_MODULES.map((m) => require.resolve(m)),
    },
  };
}

let runtimeInstalled = false;
/**
 * Keeps the SDK's Rust core quiet unless asked: a CLI's stderr is for the user. By default the
 * SDK shuts workers down on SIGINT and SIGTERM by itself; `shutdownSignals: []` leaves those
 * signals to a process that must do things first (`--embedded` cancels its pipeline while its
 * worker still runs, and stops the worker before the server).
 */
export function installQuietRuntime(
  level: 'WARN' | 'ERROR' | 'INFO' = 'WARN',
  options: { shutdownSignals?: NodeJS.Signals[] } = {},
): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new (require('@temporalio/worker').DefaultLogger)(level),
      telemetryOptions: { logging: { forward: {}, filter: { core: level, other: level } } },
      ...(options.shutdownSignals && { shutdownSignals: options.shutdownSignals }),
    });
  } catch {
    // Already installed by the embedding process (tests, benchmarks): keep theirs.
  }
}

/** Creates (but does not run) a worker for Convoy's workflows and activities. */
export async function createConvoyWorker(options: ConvoyWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundlePath
      ? { workflowBundle: { codePath: options.workflowBundlePath } }
      : workflowBundleOptions()),
    activities: createActivities(),
    // Cancellation reaches an activity only in the answer to a heartbeat; by default heartbeats
    // are sent at most every 0.8 x heartbeatTimeout (4 s for steps' 5 s), so an aborted deploy
    // script would run on that much longer.
    maxHeartbeatThrottleInterval: '1s',
    ...options.tuning,
    dataConverter: refusingUndecodable(options.tuning?.dataConverter),
  });
}

/**
 * Large plans and result documents travel compressed; `tuning.dataConverter` replaces that (with
 * payloadCodecsFromEnv, which includes it). Either way a forged payload the codecs cannot read
 * is refused by the workflow instead of failing its task for ever (src/codec/undecodable.ts).
 */
function refusingUndecodable(dataConverter: WorkerOptions['dataConverter']): WorkerOptions['dataConverter'] {
  const codecs = dataConverter ? (dataConverter.payloadCodecs ?? []) : [new CompressionCodec()];
  return { ...dataConverter, payloadCodecs: [new RefuseUndecodableCodec(codecs, warnUndecodable())] };
}

/** The first few distinct reasons are logged (a worker that lacks a key says so); a flood is not. */
const LOGGED_UNDECODABLE_REASONS = 20;
function warnUndecodable(): (reason: string, workflowId: string) => void {
  const logged = new Set<string>();
  return (reason, workflowId) => {
    if (logged.has(reason) || logged.size >= LOGGED_UNDECODABLE_REASONS) return;
    logged.add(reason);
    Runtime.instance().logger.warn(
      `a payload for workflow ${workflowId} cannot be decoded (${reason}): a signal or update carrying it is ` +
        'refused as malformed; a workflow input or child result fails its workflow task until this worker can ' +
        `decode it${logged.size === LOGGED_UNDECODABLE_REASONS ? ' (further reasons are not logged)' : ''}`,
      { workflowId, reason },
    );
  };
}
