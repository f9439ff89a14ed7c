/**
 * What the shipped server settings (config/temporal/dynamic-config.yaml) cost: two dev servers,
 * one after the other, the first with the shipped values and the second with the server's
 * defaults; each with a Convoy worker polling, first idle and then through a throughput run. The
 * server process's CPU seconds and its database requests (the Prometheus counter
 * `persistence_requests` by operation) are read around each.
 */
import { freePort, startDevServer } from '../../src/dev-server/dev-server';
import { readDynamicConfig } from '../../src/dev-server/dynamic-config';
import type { BenchConfig } from '../config';
import { runIdle, runThroughput } from '../convoy-scenarios';
import { benchContext, type BenchContext, type ResourceUse } from '../context';
import { readsAndWrites } from '../prometheus';
import type { ServerCost } from '../report';
import { round } from '../stats';
import { describeError, log } from '../util';
import type { BenchRecord } from './record';

/** The bundles and the tag: each server gets a context of its own. */
export type SettingsEnv = Pick<BenchContext, 'tag' | 'bundlePath' | 'floorBundlePath'>;

function cost(use: ResourceUse): ServerCost {
  const rw = use.persistence ? readsAndWrites(use.persistence) : undefined;
  return {
    // CPU time is counted in 10 ms ticks: two decimals keep an idle server's figure readable.
    cpuSeconds: use.serverSeconds === undefined ? null : round(use.serverSeconds, 2),
    dbReads: rw?.reads ?? null,
    dbWrites: rw?.writes ?? null,
    historyTaskReads: rw?.historyTaskReads ?? null,
  };
}

/** Seconds the server gets after its worker connected, before idle is measured. */
const SETTLE_SECONDS = 3;

export async function serverSettingsScenario(
  env: SettingsEnv,
  config: BenchConfig,
  record: BenchRecord,
): Promise<void> {
  const shipped = readDynamicConfig();
  const variants = {
    shipped: {},
    defaults: Object.fromEntries(Object.keys(shipped).map((key) => [key, null])),
  } as const;
  const byOperation: NonNullable<BenchRecord['details']['serverSettings']>['byOperation'] = {
    idle: { shipped: {}, defaults: {} },
    throughput: { shipped: {}, defaults: {} },
  };
  const { idleSeconds, throughputPipelines } = config.serverSettings;
  for (const variant of ['shipped', 'defaults'] as const) {
    await record.attempt(`server-settings (${variant})`, async () => {
      const dev = await startDevServer({ metricsPort: await freePort(), dynamicConfig: variants[variant] });
      try {
        const ctx = benchContext(dev, dev.env.client, `${env.tag}-${variant}`, env);
        log(`server settings (${variant}): ${idleSeconds} s idle, then ${throughputPipelines} pipelines`);
        const idle = await runIdle(ctx, idleSeconds, SETTLE_SECONDS);
        const run = await runThroughput(ctx, throughputPipelines);
        const pipelinesPerMinute = round((run.pipelines / run.wallSeconds) * 60, 1);
        record.results.serverSettings[variant] = {
          idle: cost(idle),
          throughput: { ...cost(run.use), pipelinesPerMinute },
        };
        byOperation.idle[variant] = idle.persistence ?? {};
        byOperation.throughput[variant] = run.use.persistence ?? {};
        if (run.statuses.succeeded !== run.pipelines)
          record.note(`server-settings (${variant}): pipelines ended ${JSON.stringify(run.statuses)}`);
        const s = record.results.serverSettings[variant];
        log(
          `server settings (${variant}): idle CPU ${s.idle.cpuSeconds} s, ${s.idle.dbReads} reads; ` +
            `throughput ${pipelinesPerMinute}/min, CPU ${s.throughput.cpuSeconds} s, ${s.throughput.dbReads} reads, ${s.throughput.dbWrites} writes`,
        );
      } finally {
        await dev
          .stop()
          .catch((error: unknown) => log(`stopping the ${variant} server: ${describeError(error)}`));
      }
    });
  }
  record.details.serverSettings = { shipped: { ...shipped }, byOperation };
}
