/** What a run has measured so far: the scenarios record into it, the runner writes it out. */
import type { BenchConfig } from '../config';
import type { BenchDetails, BenchResults, MachineInfo } from '../report';
import { describeError, log } from '../util';

export class BenchRecord {
  constructor(
    /** bench/results/latest.json */
    readonly results: BenchResults,
    /** What latest.md adds to it. */
    readonly details: BenchDetails,
  ) {}

  note(text: string): void {
    this.details.notes.push(text);
  }

  /**
   * Runs one benchmark, or one part of one: a failure is logged and recorded under `benchmark`,
   * and the run goes on with the next.
   */
  async attempt<T>(benchmark: string, body: () => Promise<T>): Promise<T | undefined> {
    try {
      return await body();
    } catch (error) {
      const message = describeError(error);
      log(`${benchmark} FAILED: ${message}`);
      this.details.errors.push({ benchmark, message });
      return undefined;
    }
  }

  /** Says so when the server failed coordinator workflow tasks (their work is thrown away and redone). */
  forceClosedNote(benchmark: string, failed: Record<string, number>): void {
    const entries = Object.entries(failed);
    if (!entries.length) return;
    this.note(
      `${benchmark}: the server failed ${entries.map(([cause, n]) => `${n} coordinator workflow task(s) with ${cause}`).join(' and ')}` +
        (failed.FORCE_CLOSE_COMMAND
          ? ' — more events arrived for the pipeline workflow while one of its workflow tasks ran than the server buffers (`history.maximumBufferedEventsBatch`: 1,000 in the shipped dynamic config, 100 by default), ' +
            'so it discarded that task and scheduled a new one: the worker does that work again.'
          : '.'),
    );
  }
}

/** A record with every figure missing, which the scenarios fill in. */
export function emptyRecord(
  machine: MachineInfo,
  config: BenchConfig,
  quick: boolean,
  startedAt: Date,
): BenchRecord {
  return new BenchRecord(
    {
      machine,
      floor: { p50Ms: null, p99Ms: null },
      release: [],
      backToBack: [],
      failurePropagation: { p50Ms: null, p99Ms: null, floorP50Ms: null },
      timeoutLateness: {
        p50Ms: null,
        p99Ms: null,
        maxMs: null,
        samples: 0,
        rawTimerP50Ms: null,
        rawTimerP99Ms: null,
        rawCoordinatorP50Ms: null,
        rawCoordinatorP99Ms: null,
      },
      scale: {
        workflows: config.scale.workflows,
        barriersPerWorkflow: config.scale.barriers,
        wallSeconds: null,
        parentHistoryEvents: null,
        workerPeakRssMb: null,
        releaseP50Ms: null,
        releaseP99Ms: null,
        predictedParentHistoryEvents: null,
        parentHistoryToPredicted: null,
      },
      throughput: { pipelines: config.throughputPipelines, pipelinesPerMinute: null },
      serverSettings: { ...config.serverSettings, shipped: null, defaults: null },
      memory: {
        rssPerCachedWorkflowMb: null,
        rssPerInFlightPipelineMb: null,
        stepRssMb: null,
        stepPrivateMb: null,
      },
    },
    {
      mode: quick ? 'quick' : 'full',
      startedAt: startedAt.toISOString(),
      durationSeconds: 0,
      release: [],
      notes: [],
      errors: [],
    },
  );
}
