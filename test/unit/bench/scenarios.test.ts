import type { BenchContext } from '../../../bench/context';
import { QUICK } from '../../../bench/config';
import { emptyRecord } from '../../../bench/scenarios/record';
import { throughputScenario } from '../../../bench/scenarios/throughput';

jest.mock('../../../bench/convoy-scenarios', () => ({
  runThroughput: jest.fn(async (_ctx: unknown, pipelines: number) => ({
    pipelines,
    wallSeconds: 30.04,
    statuses: { succeeded: pipelines - 1, failed: 1 },
    use: { serverSeconds: 12.345, workerSeconds: undefined, persistence: undefined },
  })),
}));
jest.mock('../../../bench/util', () => ({
  ...jest.requireActual('../../../bench/util'),
  log: () => undefined,
}));

const machine = { cpuModel: 'cpu', cores: 2, memoryGiB: 8, node: 'v20', temporalCli: 'cli', os: 'linux' };
const record = () => emptyRecord(machine, QUICK, true, new Date(0));

describe('BenchRecord', () => {
  it('starts with every figure missing and the configured sizes', () => {
    const r = record();
    expect(r.results.release).toEqual([]);
    expect(r.results.scale).toMatchObject({
      workflows: 100,
      barriersPerWorkflow: 4,
      parentHistoryEvents: null,
    });
    expect(r.results.serverSettings).toEqual({
      ...QUICK.serverSettings,
      shipped: null,
      defaults: null,
    });
    expect(r.details).toMatchObject({
      mode: 'quick',
      startedAt: '1970-01-01T00:00:00.000Z',
      notes: [],
      errors: [],
    });
  });

  it('records a failed benchmark and goes on', async () => {
    const r = record();
    await expect(r.attempt('scale', () => Promise.reject(new Error('boom')))).resolves.toBeUndefined();
    await expect(r.attempt('throughput', () => Promise.resolve(7))).resolves.toBe(7);
    expect(r.details.errors).toEqual([{ benchmark: 'scale', message: 'boom' }]);
  });

  it('notes coordinator workflow tasks the server failed, and nothing when none were', () => {
    const r = record();
    r.forceClosedNote('scale', {});
    r.forceClosedNote('scale', { FORCE_CLOSE_COMMAND: 2 });
    expect(r.details.notes).toHaveLength(1);
    expect(r.details.notes[0]).toMatch(
      /^scale: the server failed 2 coordinator workflow task\(s\) with FORCE_CLOSE_COMMAND — more events/,
    );
  });
});

describe('a scenario', () => {
  it('records its figures in the results document and its details, with a note when something is off', async () => {
    const r = record();
    await throughputScenario({} as BenchContext, QUICK, r);
    expect(r.results.throughput).toEqual({ pipelines: 10, pipelinesPerMinute: 20 });
    expect(r.details.throughput).toEqual({
      wallSeconds: 30,
      statuses: { succeeded: 9, failed: 1 },
      cpu: { serverSeconds: 12.3, workerSeconds: null },
    });
    expect(r.details.notes).toEqual(['throughput: pipelines ended {"succeeded":9,"failed":1}']);
  });
});
