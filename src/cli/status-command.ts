/**
 * `convoy status ID [--watch]`: reads the pipeline's document, and says within seconds when no
 * worker polls its task queue (a running pipeline's state is a query that only a worker can
 * answer), waiting on until one does. The commander wiring is in main.ts.
 */
import type { ConvoyClient } from '../client/convoy-client';
import { grpcStatusCode } from '../connection/errors';
import type { PipelineResult } from '../model/result';
import { watchForWorkers } from './worker-notice';

/** gRPC DEADLINE_EXCEEDED: what a query no worker picked up ends with (after about 30 s). */
const DEADLINE_EXCEEDED = 4;

/** Reads pipeline documents for `status`, with the no-worker notice while the pipeline runs. */
export class StatusReader {
  private notice: { stop(): void } | undefined;
  private taskQueue: string | undefined;

  constructor(
    private readonly client: ConvoyClient,
    private readonly pipelineId: string,
    private readonly say: (line: string) => void,
  ) {}

  /** The document now; while no worker can answer, waits (the notice says why). */
  async read(): Promise<PipelineResult> {
    await this.watchWorkersOnce();
    for (;;) {
      try {
        return await this.client.getHandle(this.pipelineId).status();
      } catch (error) {
        const noWorker =
          grpcStatusCode(error) === DEADLINE_EXCEEDED &&
          this.taskQueue !== undefined &&
          (await this.client.countWorkers(this.taskQueue)) === 0;
        if (!noWorker) throw error;
      }
    }
  }

  /** Stops the notice. */
  stop(): void {
    this.notice?.stop();
  }

  private async watchWorkersOnce(): Promise<void> {
    if (this.taskQueue !== undefined) return;
    let description;
    try {
      description = await this.client.temporal.workflow.getHandle(this.pipelineId).describe();
    } catch {
      return; // the read says what is wrong (no such pipeline, unreachable...)
    }
    this.taskQueue = description.taskQueue;
    if (description.status.name === 'RUNNING') {
      this.notice = watchForWorkers(this.client, description.taskQueue, this.say);
    }
  }
}
