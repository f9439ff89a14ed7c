/**
 * Harness pipelines imported, validated and run end to end on the real dev server: the fixtures of
 * test/fixtures/harness in both generations, with the outcome Harness gives them (barriers
 * crossed, broken or timed out, each peer's failure strategy applied), minus Harness's late
 * timeouts. All pipelines start together in beforeAll and each test awaits its own, so the file
 * takes about as long as its slowest pipeline.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importHarness } from '../../src/harness-import';
import { readHarnessFiles } from '../../src/harness-import/read';
import { runValidate } from '../../src/cli/validate';
import type { PipelineResult } from '../../src/model/result';
import { barrierOf, connectTestEnv, runYamlPipeline, stepOf, workflowOf, type TestEnv } from './harness';

const FIXTURES = join(__dirname, '..', 'fixtures', 'harness');
const dir = mkdtempSync(join(tmpdir(), 'convoy-harness-it-'));

/** Imports a fixture as `convoy import harness` does, validates the file as `convoy validate` does, and runs it. */
async function importValidateRun(
  fixture: string,
  mappings: Record<string, string> = {},
): Promise<PipelineResult> {
  const path = join(FIXTURES, fixture);
  const paths = fixture.endsWith('.yaml') ? [path] : readdirSync(path).map((file) => join(path, file));
  const read = readHarnessFiles(paths);
  const imported = importHarness(read.files, new Map(Object.entries(mappings)));
  if (imported.text === undefined) throw new Error(`${fixture}: ${JSON.stringify(imported.errors)}`);
  const file = join(dir, `${fixture.replace(/\W+/g, '-')}.yaml`);
  writeFileSync(file, imported.text);
  const lines: string[] = [];
  const code = runValidate(file, {}, { out: (s) => lines.push(s), err: (s) => lines.push(s) });
  if (code !== 0) throw new Error(`${fixture} does not validate:\n${lines.join('\n')}`);
  return runYamlPipeline(env, imported.text);
}

const RUNS: Record<string, [fixture: string, mappings?: Record<string, string>]> = {
  ngParallel: ['nextgen/parallel-barrier.yaml'],
  ngBroken: ['nextgen/broken-barrier.yaml'],
  ngTimeout: ['nextgen/barrier-timeout.yaml'],
  ngMultiple: ['nextgen/multiple-barriers.yaml'],
  ngGroups: ['nextgen/step-groups.yaml'],
  ngMapped: [
    'nextgen/errors/unmapped-steps.yaml',
    {
      K8sRollingDeploy: 'echo "$HARNESS_STEP_TYPE $HARNESS_STEP_ID $HARNESS_STEP_SPEC"',
      HarnessApproval: 'echo approved',
      K8sRollingRollback: 'echo rolled back',
    },
  ],
  fgParallel: ['firstgen/parallel-barrier'],
  fgBroken: ['firstgen/broken-barrier'],
  fgTimeout: ['firstgen/barrier-timeout'],
  fgMultiple: ['firstgen/multiple-barriers'],
  fgLooped: ['firstgen/looped'],
};

let env: TestEnv;
const results = new Map<string, Promise<PipelineResult>>();
beforeAll(async () => {
  env = await connectTestEnv('harness-import');
  await env.startWorker();
  for (const [key, [fixture, mappings]] of Object.entries(RUNS)) {
    const run = importValidateRun(fixture, mappings);
    run.catch(() => undefined); // awaited by its test
    results.set(key, run);
  }
});
afterAll(() => env.close());

const resultOf = (key: keyof typeof RUNS) => results.get(key)!;
const statuses = (doc: PipelineResult) => Object.fromEntries(doc.workflows.map((w) => [w.name, w.status]));
const ms = (iso: string | undefined) => Date.parse(iso!);

describe('parallel stages meeting at a barrier', () => {
  it('NextGen: the parallel block crosses together, then the next stage runs', async () => {
    const doc = await resultOf('ngParallel');
    expect(doc.status).toBe('succeeded');
    const barrier = barrierOf(doc, 'deploy_payments.deploy_orders', 'services_deployed');
    expect(barrier).toMatchObject({ status: 'crossed', participants: ['deploy_payments', 'deploy_orders'] });
    // payments waited for orders (which deploys 0.5 s longer) before verifying
    expect(ms(stepOf(doc, 'deploy_payments', 'verify').startedAt)).toBeGreaterThanOrEqual(
      ms(barrier.arrivals['deploy_orders']),
    );
    expect(stepOf(doc, 'deploy_payments', 'deploy').output?.stdoutTail).toContain('deploying payments 1.4.2');
    expect(stepOf(doc, 'deploy_orders', 'deploy').output?.stdoutTail).toContain('deploying orders 1.4.2');
    expect(workflowOf(doc, 'smoke_test').status).toBe('succeeded');
  });

  it('FirstGen: the parallel section crosses together, with the pipeline stage variables', async () => {
    const doc = await resultOf('fgParallel');
    expect(doc.status).toBe('succeeded');
    const barrier = barrierOf(doc, 'STAGE-1', 'services-deployed');
    expect(barrier).toMatchObject({ status: 'crossed', participants: ['Deploy-payments', 'Deploy-orders'] });
    expect(ms(stepOf(doc, 'Deploy-payments', 'Verify').startedAt)).toBeGreaterThanOrEqual(
      ms(barrier.arrivals['Deploy-orders']),
    );
    expect(stepOf(doc, 'Deploy-payments', 'Deploy').output?.stdoutTail).toContain('deploying payments 1.4.2');
    expect(workflowOf(doc, 'Smoke-test').status).toBe('succeeded');
  });
});

describe('a failing stage breaks the barrier; each peer follows its own strategy', () => {
  it('NextGen: rollback, abort (Unknown), ignore, MarkAsSuccess, manual intervention timing out, no retry of a barrier', async () => {
    const doc = await resultOf('ngBroken');
    expect(doc.status).toBe('failed');
    const stage = 'payments-and-6-more';
    expect(barrierOf(doc, stage, 'services_deployed')).toMatchObject({
      status: 'broken',
      reason: expect.stringContaining('payments failed at step deploy'),
    });
    expect(statuses(doc)).toEqual({
      payments: 'rolled-back',
      orders: 'rolled-back',
      inventory: 'aborted',
      search: 'succeeded',
      billing: 'succeeded',
      ledger: 'rolled-back',
      shipping: 'aborted',
      smoke_test: 'not-started',
    });
    for (const peer of ['orders', 'inventory', 'ledger', 'shipping']) {
      expect(stepOf(doc, peer, 'all_deployed')).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { type: 'barrier-broken' },
      });
    }
    expect(stepOf(doc, 'search', 'all_deployed')).toMatchObject({
      status: 'ignored',
      error: { type: 'barrier-broken' },
    });
    expect(stepOf(doc, 'billing', 'verify').status).toBe('succeeded');
    expect(stepOf(doc, 'orders', 'undo')).toMatchObject({ status: 'succeeded', rollback: true });
    // ledger waited for an operator for its 1 s timeout, then rolled back
    const ledgerBarrier = stepOf(doc, 'ledger', 'all_deployed');
    expect(ms(stepOf(doc, 'ledger', 'undo').startedAt) - ms(ledgerBarrier.endedAt)).toBeGreaterThanOrEqual(
      900,
    );
  });

  it('FirstGen: ROLLBACK_WORKFLOW, ABORT_WORKFLOW_EXECUTION, IGNORE, MANUAL_INTERVENTION, RETRY', async () => {
    const doc = await resultOf('fgBroken');
    expect(doc.status).toBe('failed');
    expect(barrierOf(doc, 'STAGE-1', 'services-deployed')).toMatchObject({ status: 'broken' });
    expect(statuses(doc)).toEqual({
      payments: 'rolled-back',
      orders: 'rolled-back',
      inventory: 'aborted',
      search: 'succeeded',
      ledger: 'rolled-back',
      shipping: 'aborted',
      smoke: 'not-started',
    });
    expect(stepOf(doc, 'search', 'Services deployed').status).toBe('ignored');
    expect(stepOf(doc, 'shipping', 'Services deployed')).toMatchObject({
      attempts: 1,
      error: { type: 'barrier-broken' },
    });
  });
});

describe('a barrier timeout', () => {
  it.each([
    ['NextGen', 'ngTimeout', 'fast.slow', 'in_sync', 'fast', 'slow', 'in_sync'],
    ['FirstGen', 'fgTimeout', 'STAGE-1', 'in-sync', 'fast', 'slow', 'In sync'],
  ] as const)(
    '%s: the waiting stage times out precisely and rolls back; the late one aborts',
    async (_, key, stage, id, fast, slow, step) => {
      const doc = await resultOf(key);
      expect(doc.status).toBe('failed');
      const barrier = barrierOf(doc, stage, id);
      expect(barrier).toMatchObject({ status: 'timed-out', reason: expect.stringContaining(slow) });
      const waited = ms(barrier.resolvedAt) - ms(barrier.arrivals[fast]);
      expect(waited).toBeGreaterThanOrEqual(1000);
      // Harness allows itself a minute more; the benchmark measures the precision, this only
      // bounds it on a test machine that runs every pipeline of this file at once.
      expect(waited).toBeLessThan(10_000);
      expect(statuses(doc)).toEqual({ [fast]: 'rolled-back', [slow]: 'aborted' });
      expect(stepOf(doc, fast, step).error?.type).toBe('barrier-timeout');
      expect(stepOf(doc, slow, step).error?.type).toBe('barrier-timeout');
    },
  );
});

describe('multiple barriers', () => {
  it.each([
    ['NextGen', 'ngMultiple', 'a.b.c'],
    ['FirstGen', 'fgMultiple', 'STAGE-1'],
  ] as const)('%s: a and b cross x, b and c cross y', async (_, key, stage) => {
    const doc = await resultOf(key);
    expect(doc.status).toBe('succeeded');
    const x = barrierOf(doc, stage, 'x');
    const y = barrierOf(doc, stage, 'y');
    expect(x).toMatchObject({ status: 'crossed', participants: ['a', 'b'] });
    expect(y).toMatchObject({ status: 'crossed', participants: ['b', 'c'] });
    // Arrival times are each child's own clock and a barrier resolves at the time of the arrival
    // that completed it, which is not always the latest clock (a signal may be delivered late):
    // check what is causal instead. b reached y only after x had released it.
    expect(ms(y.arrivals['b'])).toBeGreaterThanOrEqual(ms(x.resolvedAt));
    expect(Object.keys(y.arrivals).sort()).toEqual(['b', 'c']);
  });
});

describe('NextGen sequential step groups', () => {
  it('run flattened: the group retry strategy reruns the failing step, the barrier inside the groups crosses', async () => {
    const doc = await resultOf('ngGroups');
    expect(doc.status).toBe('succeeded');
    expect(workflowOf(doc, 'api').steps.map((s) => s.name)).toEqual([
      'prepare.render',
      'prepare.migrate',
      'rollout.deploy',
      'rollout.rolled_out',
      'rollout.check',
    ]);
    expect(stepOf(doc, 'api', 'prepare.migrate')).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(barrierOf(doc, 'api.web', 'rolled_out')).toMatchObject({
      status: 'crossed',
      participants: ['api', 'web'],
    });
  });
});

describe('FirstGen looped workflow (ENV_LOOP_STATE)', () => {
  it('runs once per looped value, each with its value, all meeting their peer at the barrier', async () => {
    const doc = await resultOf('fgLooped');
    expect(doc.status).toBe('succeeded');
    expect(barrierOf(doc, 'STAGE-1', 'regions-deployed')).toMatchObject({
      status: 'crossed',
      participants: ['Deploy-regions[eu]', 'Deploy-regions[us]', 'Switch-DNS'],
    });
    expect(stepOf(doc, 'Deploy-regions[eu]', 'Deploy').output?.stdoutTail).toContain('deploying eu');
    expect(stepOf(doc, 'Deploy-regions[us]', 'Verify').output?.stdoutTail).toContain('us verified');
  });
});

describe('mapped step types', () => {
  it('run their command with the Harness step in the environment', async () => {
    const doc = await resultOf('ngMapped');
    expect(doc.status).toBe('succeeded');
    expect(stepOf(doc, 'api', 'rollout').output?.stdoutTail).toContain(
      'K8sRollingDeploy rollout {"skipDryRun":false}',
    );
    expect(stepOf(doc, 'api', 'approval.approve').output?.stdoutTail).toContain('approved');
    expect(barrierOf(doc, 'api.web', 'rolled_out').status).toBe('crossed');
  });
});
