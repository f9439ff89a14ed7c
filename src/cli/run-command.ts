/**
 * How `convoy run` and `convoy dev` wait, and what Ctrl-C (SIGINT) and SIGTERM do meanwhile:
 * `run` detaches and says how to reattach or cancel; `run --embedded` cancels the pipeline,
 * stops its worker and server and exits 130; `dev` stops its worker and server. The commander
 * wiring is in main.ts.
 */
import { setMaxListeners } from 'node:events';
import type { ConvoyClient, PipelineHandle, StartPipelineOptions } from '../client/convoy-client';
import type { LoadedPipeline } from '../client/source';
import type { PipelineResult } from '../model/result';
import type { ExitCode } from './exit-codes';
import { Interruption, exitCodeForSignal, withinMs } from './interrupt';
import { watchForWorkers } from './worker-notice';

/** Where the command writes. */
interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Prints a pipeline's document and answers the exit code it deserves. */
export type ReportResult = (doc: PipelineResult) => ExitCode;

/** Shows a pipeline's progress until it ends (the live view or timestamped lines). */
export type FollowPipeline = (handle: PipelineHandle) => Promise<unknown>;

/** Follows the pipeline (when asked), then reads its document. */
async function followThenResult(handle: PipelineHandle, follow?: FollowPipeline): Promise<PipelineResult> {
  if (follow) await follow(handle);
  return handle.result();
}

/**
 * How long `run --embedded` waits, after Ctrl-C, for the cancelled pipeline's document (about 2 s:
 * a shell step learns of it at its next heartbeat) before it stops the worker and the server
 * anyway, which takes up to about 1.5 s more: the whole shutdown must fit in 5 s.
 */
const ABORT_WAIT_MS = 2800;

/**
 * Runs `wait` so that {@link AbortableCalls.abort} ends its gRPC calls. A connection closed under
 * a pending call makes the SDK's retry throw "Channel has been shut down" where nothing can catch
 * it; aborting the calls first lets them end as ordinary rejections.
 */
class AbortableCalls {
  private readonly controller = new AbortController();

  constructor(private readonly client: ConvoyClient) {
    // Each pending call listens on the signal; following a large pipeline queries every running
    // child at once, so more than Node's default of 10 is normal, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  run<T>(wait: () => Promise<T>): Promise<T> {
    return this.client.temporal.connection.withAbortSignal(this.controller.signal, wait);
  }

  abort(): void {
    this.controller.abort();
  }
}

/** Waits for the pipeline's document, saying meanwhile when no worker polls its task queue. */
async function waitForResult(
  client: ConvoyClient,
  handle: PipelineHandle,
  taskQueue: string,
  io: Io,
  follow?: FollowPipeline,
): Promise<PipelineResult> {
  const notice = watchForWorkers(client, taskQueue, io.err);
  try {
    return await followThenResult(handle, follow);
  } finally {
    notice.stop();
  }
}

/**
 * `convoy run` against a Temporal service: starts the pipeline and waits for its document. The
 * first Ctrl-C detaches at once; the pipeline keeps running.
 */
export async function runAttached(
  client: ConvoyClient,
  pipeline: LoadedPipeline,
  start: StartPipelineOptions,
  io: Io & { json?: boolean; address: string },
  report: ReportResult,
  follow?: FollowPipeline,
): Promise<ExitCode> {
  const interruption = new Interruption();
  try {
    const handle = await client.start(pipeline, start);
    io.err(`pipeline ${handle.pipelineId} started on ${io.address} (task queue ${client.taskQueue})`);
    const calls = new AbortableCalls(client);
    const outcome = await interruption.race(
      calls.run(() => waitForResult(client, handle, client.taskQueue, io, follow)),
    );
    if ('value' in outcome) return report(outcome.value);
    calls.abort();
    io.err(detachedMessage(handle.pipelineId));
    if (io.json) io.out(JSON.stringify({ pipelineId: handle.pipelineId, status: 'running' }));
    return exitCodeForSignal(outcome.signal);
  } finally {
    interruption.dispose();
  }
}

/** What `run` prints when Ctrl-C detaches it from a pipeline. */
export function detachedMessage(pipelineId: string): string {
  return [
    `detached: pipeline ${pipelineId} keeps running.`,
    `  follow it:  convoy status ${pipelineId} --watch`,
    `  cancel it:  convoy cancel ${pipelineId}`,
  ].join('\n');
}

/**
 * `convoy run --embedded`: a dev server and a worker for this one pipeline. The first Ctrl-C
 * cancels the pipeline, prints its document if it ends in time, stops the worker, then the
 * server, and exits 130; a second one exits at once.
 */
export async function runEmbedded(
  pipeline: LoadedPipeline,
  start: StartPipelineOptions,
  io: Io,
  report: ReportResult,
  follow?: FollowPipeline,
): Promise<ExitCode> {
  const interruption = new Interruption(() => io.err('convoy: stopping now'));
  try {
    const [{ startEmbedded }, { ConvoyClient }] = await Promise.all([
      import('../dev-server/embedded'),
      import('../client/convoy-client'),
    ]);
    const starting = interruption.race(startEmbedded({ log: io.err }));
    const ready = await starting;
    if ('signal' in ready) {
      // The server is half started: the dev server module's exit hook ends its process group.
      io.err('convoy: interrupted while starting the embedded server');
      return exitCodeForSignal(ready.signal);
    }
    const embedded = ready.value;
    const client = new ConvoyClient({ client: embedded.client, taskQueue: embedded.taskQueue });
    const calls = new AbortableCalls(client);
    try {
      const handle = await client.start(pipeline, start);
      io.err(
        `pipeline ${handle.pipelineId} started (Web UI: ${embedded.server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(handle.pipelineId)})`,
      );
      const outcome = await interruption.race(calls.run(() => followThenResult(handle, follow)));
      if ('value' in outcome) return report(outcome.value);
      io.err(`convoy: cancelling pipeline ${handle.pipelineId} and stopping the embedded server`);
      const aborted = await withinMs(
        calls.run(() => handle.cancel().then(() => handle.result())),
        ABORT_WAIT_MS,
      );
      if (aborted) report(aborted);
      return exitCodeForSignal(outcome.signal);
    } finally {
      calls.abort();
      await embedded.stop();
    }
  } finally {
    interruption.dispose();
  }
}

/** `convoy dev`: a dev server and a worker until SIGINT or SIGTERM. */
export async function runDev(
  options: { port: number; uiPort: number; dbFile?: string },
  io: Io,
): Promise<void> {
  const interruption = new Interruption(() => io.err('convoy: stopping now'));
  try {
    const { startEmbedded } = await import('../dev-server/embedded');
    const ready = await interruption.race(startEmbedded({ ...options, log: io.err }));
    if ('signal' in ready) return;
    const embedded = ready.value;
    io.out(`Temporal: ${embedded.server.address}`);
    io.out(`Web UI:   ${embedded.server.uiUrl}`);
    io.out(`Worker on task queue ${embedded.taskQueue}. Press Ctrl-C to stop.`);
    await interruption.signalled;
    await embedded.stop();
  } finally {
    interruption.dispose();
  }
}
