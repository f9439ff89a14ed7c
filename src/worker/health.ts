/**
 * `/healthz` and `/readyz` for Kubernetes probes, answered from the worker's real state: ready
 * once the worker runs and has polled Temporal, not ready again while it drains on SIGTERM (so
 * no new work is routed to it — Temporal routes by polling, but a rollout waits on readiness).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerStatus } from '@temporalio/worker';
import { HealthPaths } from './settings';

/** What the probes see, for the response body and the decision. */
export interface HealthReport {
  readonly live: boolean;
  readonly ready: boolean;
  /** `starting` before the worker exists, else the SDK's run state (`RUNNING`, `DRAINING`, ...). */
  readonly state: string;
  readonly polled: boolean;
}

/**
 * The decision, pure: live unless the worker failed; ready when it runs, both pollers poll, and
 * it has had a poll outstanding at least once (its first long poll reached the server).
 */
export function healthReport(status: WorkerStatus | undefined, polled: boolean): HealthReport {
  if (status === undefined) return { live: true, ready: false, state: 'starting', polled: false };
  const hasPolled = polled || status.hasOutstandingWorkflowPoll || status.hasOutstandingActivityPoll;
  const polling = status.workflowPollerState === 'POLLING' && status.activityPollerState === 'POLLING';
  return {
    live: status.runState !== 'FAILED',
    ready: status.runState === 'RUNNING' && polling && hasPolled,
    state: status.runState,
    polled: hasPolled,
  };
}

/**
 * The worker's health as it changes: attach the worker once created. `details` (how the worker
 * was sized) go in the readiness body as they are, for whoever looks at a pod.
 */
export class WorkerHealth {
  constructor(readonly details: Readonly<Record<string, unknown>> = {}) {}

  private worker: { getStatus(): WorkerStatus } | undefined;
  private polled = false;
  private sampler: NodeJS.Timeout | undefined;

  /** Starts following `worker`; a poll outstanding between two probes is noticed by sampling. */
  attach(worker: { getStatus(): WorkerStatus }): void {
    this.worker = worker;
    this.sampler = setInterval(() => this.report(), 200);
    this.sampler.unref();
  }

  report(): HealthReport {
    const report = healthReport(this.worker?.getStatus(), this.polled);
    this.polled = report.polled;
    return report;
  }

  stop(): void {
    clearInterval(this.sampler);
  }
}

/** An HTTP server answering the probes on `port` (all interfaces: the kubelet probes the pod IP). */
export async function startHealthServer(
  port: number,
  health: WorkerHealth,
  host = '0.0.0.0',
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const report = health.report();
    const ok =
      path === HealthPaths.liveness ? report.live : path === HealthPaths.readiness ? report.ready : undefined;
    if (ok === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const details = path === HealthPaths.readiness ? health.details : {};
    response
      .writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
      .end(`${JSON.stringify({ ok, state: report.state, polled: report.polled, ...details })}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
